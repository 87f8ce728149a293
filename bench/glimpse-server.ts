/** The real Glimpse server as a bench child process: fresh SQLite, a group, agents; reports its port. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildApp } from "../server/app";
import { hashPassword } from "../server/passwords";
import { Store } from "../server/store";

const dir = process.env.BENCH_DB_DIR ?? mkdtempSync(join(tmpdir(), "glimpse-bench-"));
const store = new Store(join(dir, "bench.db"));
if (!store.getGroup("bench")) {
  store.createGroup({ id: "bench", name: "Bench", keyLength: 6, secret: "bench-secret", requireVerified: false });
  store.createAgent("bench", "agent", await hashPassword("bench password"));
}
const app = await buildApp({
  store,
  // One bench visitor sends thousands of messages a second (a person's page: about 60), so the
  // per-socket time budget is lifted like the other per-client limits; its bookkeeping still runs.
  // The denial bench (bench/denial.ts) measures the production limits instead: nothing lifted.
  // GLIMPSE_REDIS_URL (bench/relay.ts, bench/presence.ts): one of several nodes.
  config: {
    redisUrl: process.env.GLIMPSE_REDIS_URL ?? "",
    ...(process.env.BENCH_PRODUCTION_LIMITS ? {} : { maxConnectionsPerIp: 1_000_000, helloTimeoutMs: 60_000, keyTtlMs: 60 * 60_000, connectionCpuMsPerS: 1_000_000 }),
  },
  limits: { loginFailuresPerUser: 1e9, loginFailuresPerIp: 1e9, loginWindowS: 1, joinFailuresPerAgent: 1e9, joinFailuresPerIp: 1e9, joinFailuresPerKey: 1e9, joinWindowS: 1 },
});
await app.listen({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT ?? 0) });
const { port } = app.server.address() as { port: number };
process.on("message", (message: { memory?: boolean }) => {
  if (message.memory) {
    (globalThis as { gc?: () => void }).gc?.();
    const { heapUsed, rss } = process.memoryUsage();
    process.send!({ heapUsed, rss });
  }
});
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
process.send!({ port });
