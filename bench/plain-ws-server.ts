/** Baseline for presence memory: a bare `ws` server that only answers hello (the "plain-ws class"). */
import { WebSocketServer } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT ?? 0) });
wss.on("connection", (socket) => {
  socket.on("message", (data) => {
    if (data.toString().includes('"hello"')) socket.send(JSON.stringify({ t: "welcome", v: 1, group: { id: "bench", name: "Bench" }, visitorId: null, verified: false }));
  });
});
wss.on("listening", () => {
  process.on("message", (message: { memory?: boolean }) => {
    if (message.memory) {
      (globalThis as { gc?: () => void }).gc?.();
      const { heapUsed, rss } = process.memoryUsage();
      process.send!({ heapUsed, rss });
    }
  });
  process.on("SIGTERM", () => process.exit(0));
  process.send!({ port: (wss.address() as { port: number }).port });
});
