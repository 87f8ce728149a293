/** `npm run server`: the embedded default — one process, SQLite, in-memory registries. */
import { buildApp } from "./app";
import { configFromEnv } from "./config";

const config = configFromEnv();
const app = await buildApp({ config, logger: process.env.GLIMPSE_LOG === "1" });
await app.listen({ host: config.host, port: config.port });
const base = `http://${config.host}:${config.port}`;
console.log(`Glimpse server on ${base}  (console ${base}/console/, demo site ${base}/demo/)`);

// Drain (GLIMPSE_DRAIN_MS, for a load balancer that polls /readyz), then close every socket with
// 1012 so that clients reconnect, to this node once restarted or to another.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    app.drain();
    setTimeout(() => void app.close().then(() => process.exit(0)), config.drainMs);
  });
}
