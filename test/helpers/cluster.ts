/**
 * Several real Glimpse nodes as their own processes (`tsx server/main.ts`), on one SQLite file and
 * a real Debian `redis-server` on a free port: a node can be killed with SIGKILL, as a node is lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "../../server/passwords";
import { Store } from "../../server/store";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Resolves when `child` prints a line matching `ready`; rejects if it exits first or takes too long. */
function whenPrinted(child: ChildProcess, ready: RegExp, what: string, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready:\n${output}`));
    });
  });
}

const exited = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => child.once("exit", () => resolve())));

export interface TestRedis {
  url: string;
  port: number;
  /** Stop Redis (SIGKILL: gone, as a crashed or unreachable Redis). */
  kill(): Promise<void>;
  /** Start it again on the same port (empty: it keeps nothing on disk). */
  start(): Promise<void>;
}

export async function startRedis(): Promise<TestRedis> {
  const port = await freePort();
  let child: ChildProcess;
  const redis: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async start() {
      child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "pipe" });
      await whenPrinted(child, /Ready to accept connections/, "redis-server");
    },
    async kill() {
      child.kill("SIGKILL");
      await exited(child);
    },
  };
  await redis.start();
  return redis;
}

export interface TestNode {
  name: string;
  url: string;
  wsUrl: string;
  port: number;
  /** Lose the node: SIGKILL, no drain, nothing said to anyone. */
  kill(): Promise<void>;
  /** Stop it as an orchestrator does (SIGTERM: sockets closed with 1012). */
  stop(): Promise<void>;
}

export interface TestCluster {
  nodes: TestNode[];
  redis: TestRedis;
  store: Store;
  addAgent(groupId: string, username: string, password?: string): Promise<string>;
  /** Another node on the same database and Redis. */
  addNode(name: string): Promise<TestNode>;
  close(): Promise<void>;
}

/** `count` nodes sharing one SQLite database (one host) and one Redis; group "demo" exists. */
export async function startCluster(count: number, env: Record<string, string> = {}): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "glimpse-cluster-"));
  const dbPath = join(dir, "glimpse.db");
  const store = new Store(dbPath);
  store.createGroup({ id: "demo", name: "Demo shop", keyLength: 6, secret: `secret-${Math.random()}`, requireVerified: false });
  const redis = await startRedis();
  const children: ChildProcess[] = [];

  async function addNode(name: string): Promise<TestNode> {
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      cwd: ROOT,
      stdio: "pipe",
      env: {
        ...process.env,
        GLIMPSE_PORT: String(port),
        GLIMPSE_DB: dbPath,
        GLIMPSE_REDIS_URL: redis.url,
        GLIMPSE_NODE_ID: name,
        GLIMPSE_DEMO_TOKENS: "1",
        ...env,
      },
    });
    children.push(child);
    await whenPrinted(child, /Glimpse server on/, `node ${name}`);
    const url = `http://127.0.0.1:${port}`;
    return {
      name,
      url,
      port,
      wsUrl: url.replace("http", "ws"),
      async kill() {
        child.kill("SIGKILL");
        await exited(child);
      },
      async stop() {
        child.kill("SIGTERM");
        await exited(child);
      },
    };
  }

  const nodes: TestNode[] = [];
  for (let i = 0; i < count; i++) nodes.push(await addNode(String.fromCharCode(97 + i)));
  return {
    nodes,
    redis,
    store,
    addNode,
    async addAgent(groupId, username, password = "correct horse battery") {
      store.createAgent(groupId, username, await hashPassword(password));
      return password;
    },
    async close() {
      for (const child of children) child.kill("SIGKILL");
      await Promise.all(children.map(exited));
      await redis.kill();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
