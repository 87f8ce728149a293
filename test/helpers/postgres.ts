/**
 * A throwaway PostgreSQL server from Debian's `postgresql` package: a fresh cluster made with
 * `initdb` in a temporary directory, run by `postgres` itself on a free port (no system service,
 * nothing kept). As root (CI), it runs as the `postgres` user the package creates, since
 * PostgreSQL refuses to run as root.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";
import { freePort } from "./cluster";

export interface TestPostgres {
  /** A new, empty database on this server: its URL. */
  database(): Promise<string>;
  /** The server goes away (immediate shutdown: every connection dropped), keeping its data. */
  kill(): Promise<void>;
  /** Start it again on the same port and data. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Where Debian installs the server programs (`/usr/lib/postgresql/<major>/bin`), newest major first. */
export function postgresBin(): string {
  const base = "/usr/lib/postgresql";
  const majors = existsSync(base) ? readdirSync(base).filter((name) => existsSync(join(base, name, "bin", "postgres"))) : [];
  majors.sort((a, b) => Number(b) - Number(a));
  if (!majors[0]) throw new Error("PostgreSQL is not installed: apt-get install postgresql (npm test installs it when missing).");
  return join(base, majors[0], "bin");
}

const asRoot = process.getuid?.() === 0;
/** As root: the uid and gid of the postgres user, for spawn's options. */
function postgresUser(): { uid: number; gid: number } | Record<string, never> {
  if (!asRoot) return {};
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  if (!Number.isInteger(uid) || uid <= 0) throw new Error("Running as root, and there is no postgres user to run PostgreSQL as (apt-get install postgresql creates it).");
  return { uid, gid: id("-g") };
}

let databases = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "glimpse-pg-"));
  const user = postgresUser();
  if (asRoot) chownSync(dir, user.uid!, user.gid!);
  chmodSync(dir, 0o700);
  const data = join(dir, "data");
  const init = spawnSync(join(bin, "initdb"), ["-D", data, "-U", "glimpse", "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"], { encoding: "utf8", cwd: dir, ...user });
  if (init.status !== 0) throw new Error(`initdb failed (${init.status}): ${init.stderr}`);
  const port = await freePort();
  let child: ChildProcess;
  // fsync off: a test server keeps nothing worth a flush, and CI disks are slow.
  const start = () => {
    child = spawn(join(bin, "postgres"), ["-D", data, "-p", String(port), "-h", "127.0.0.1", "-k", dir, "-F", "-c", "max_connections=200"], { stdio: "pipe", cwd: dir, ...user });
    return whenReady(child);
  };
  const running = () => child.exitCode === null && child.signalCode === null;
  const shutdown = async (signal: NodeJS.Signals) => {
    if (!running()) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
  };
  await start();
  const url = (name: string) => `postgres://glimpse@127.0.0.1:${port}/${name}`;
  return {
    async database() {
      const name = `glimpse_${process.pid}_${++databases}`;
      const admin = new pg.Client({ connectionString: url("postgres") });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return url(name);
    },
    kill: () => shutdown("SIGQUIT"),
    start,
    async stop() {
      await shutdown("SIGINT"); // fast shutdown: disconnects clients and stops
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function whenReady(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`postgres did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/ready to accept connections/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`postgres exited (${code}) before it was ready:\n${output}`));
    });
  });
}

/** One throwaway server for a test file: started before its tests, stopped after them. */
export function usePostgres(): () => TestPostgres {
  let postgres: TestPostgres | undefined;
  beforeAll(async () => {
    postgres = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await postgres?.stop();
  });
  return () => {
    if (!postgres) throw new Error("PostgreSQL is not started yet (usePostgres() starts it before the file's tests)");
    return postgres;
  };
}
