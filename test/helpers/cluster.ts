/**
 * Several real Glimpse nodes as their own processes (`tsx server/main.ts`), on one PostgreSQL
 * database (several hosts) or one SQLite file (one host), and a real Debian `redis-server` on a
 * free port: a node can be killed with SIGKILL, as a node is lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { hashPassword } from "../../server/passwords";
import { PgStore } from "../../server/pg-store";
import { Store, type StoreApi } from "../../server/store";
import type { TestPostgres } from "./postgres";

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
  /** The running redis-server's process id. */
  readonly pid: number;
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
    get pid() {
      return child.pid!;
    },
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
  /** The nodes' database, opened by the test too. */
  store: StoreApi;
  addAgent(groupId: string, username: string, password?: string): Promise<string>;
  /** Another node on the same database and Redis. */
  addNode(name: string): Promise<TestNode>;
  close(): Promise<void>;
}

/**
 * `count` nodes sharing one Redis and one database: a fresh one on `postgres` (GLIMPSE_DATABASE_URL,
 * as nodes on several hosts run), else one SQLite file (GLIMPSE_DB, nodes on one host). Group "demo" exists.
 */
export async function startCluster(count: number, env: Record<string, string> = {}, postgres?: TestPostgres): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), "glimpse-cluster-"));
  const dbPath = join(dir, "glimpse.db");
  const databaseUrl = postgres ? await postgres.database() : "";
  const store: StoreApi = databaseUrl ? await PgStore.open(databaseUrl) : new Store(dbPath);
  await store.createGroup({ id: "demo", name: "Demo shop", keyLength: 6, secret: `secret-${Math.random()}`, requireVerified: false });
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
        GLIMPSE_DATABASE_URL: databaseUrl,
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
      await store.createAgent(groupId, username, await hashPassword(password));
      return password;
    },
    async close() {
      for (const child of children) child.kill("SIGKILL");
      await Promise.all(children.map(exited));
      await redis.kill();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestBalancer {
  url: string;
  close(): Promise<void>;
}

/**
 * Debian's nginx in front of `nodes`, running deploy/nginx-glimpse.conf as committed, with only the
 * node addresses and the listening port put in (and the paths a non-root nginx needs).
 */
export async function startBalancer(nodes: TestNode[]): Promise<TestBalancer> {
  const dir = mkdtempSync(join(tmpdir(), "glimpse-nginx-"));
  const port = await freePort();
  const site = readFileSync(join(ROOT, "deploy/nginx-glimpse.conf"), "utf8")
    .replace(/(upstream glimpse \{[\s\S]*?)(\n\s*server 127\.0\.0\.1:\d+[^\n]*)+/, (_all, head: string) => head + nodes.map((n) => `\n    server 127.0.0.1:${n.port} max_fails=1 fail_timeout=5s;`).join(""))
    .replace(/listen 8080;/, `listen 127.0.0.1:${port};`);
  if (!site.includes(`listen 127.0.0.1:${port};`) || !nodes.every((n) => site.includes(`:${n.port} `))) throw new Error("deploy/nginx-glimpse.conf no longer has the shape this helper edits");
  writeFileSync(join(dir, "glimpse.conf"), site);
  const temp = (name: string) => `${name} ${join(dir, name.replace(/_path$/, ""))};`;
  writeFileSync(
    join(dir, "nginx.conf"),
    [
      "daemon off;",
      "worker_processes 1;",
      `pid ${join(dir, "nginx.pid")};`,
      "error_log stderr warn;",
      "worker_rlimit_nofile 16384;",
      "events { worker_connections 8192; }",
      "http {",
      "  access_log off;",
      `  ${temp("client_body_temp_path")} ${temp("proxy_temp_path")} ${temp("fastcgi_temp_path")} ${temp("uwsgi_temp_path")} ${temp("scgi_temp_path")}`,
      `  include ${join(dir, "glimpse.conf")};`,
      "}",
    ].join("\n"),
  );
  const nginx = existsSync("/usr/sbin/nginx") ? "/usr/sbin/nginx" : "nginx";
  const child = spawn(nginx, ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", "stderr"], { stdio: "pipe" });
  let output = "";
  child.stderr?.on("data", (data: Buffer) => (output += data.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nginx did not answer within 30 s:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    async close() {
      child.kill("SIGTERM");
      await exited(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
