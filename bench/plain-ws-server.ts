/**
 * The bare-`ws` baselines: for presence memory, a server that only answers hello; for the relay, a
 * room broadcast of the same bytes with nothing checked (the practical limit of a `ws` relay).
 * Compression is configured as the Glimpse server configures it (server/app.ts), used when offered.
 */
import { WebSocketServer, type WebSocket } from "ws";

const wss = new WebSocketServer({ host: "127.0.0.1", port: Number(process.env.BENCH_PORT ?? 0), perMessageDeflate: { threshold: 1024, serverNoContextTakeover: true, zlibDeflateOptions: { level: 1 } } });
const rooms = new Map<string, Set<WebSocket>>();
const FRAMES = Buffer.from('{"t":"frames"');
wss.on("connection", (socket) => {
  let room: Set<WebSocket> | null = null;
  socket.on("message", (data: Buffer) => {
    if (room && data.subarray(0, FRAMES.length).equals(FRAMES)) {
      for (const peer of room) if (peer !== socket) peer.send(data, { binary: false });
      return;
    }
    const text = data.toString();
    if (text.includes('"hello"')) socket.send(JSON.stringify({ t: "welcome", v: 1, group: { id: "bench", name: "Bench" }, visitorId: null, verified: false }));
    else if (text.startsWith('{"t":"join"')) {
      const name = (JSON.parse(text) as { room: string }).room;
      room = rooms.get(name) ?? new Set();
      rooms.set(name, room);
      room.add(socket);
      socket.once("close", () => room!.delete(socket));
      socket.send('{"t":"joined"}');
    }
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
