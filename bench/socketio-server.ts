/**
 * The comparison: a socket.io room relay, the stack OpenReplay Assist uses. A visitor emits
 * frames to its room; agents in the room receive them. Same JSON payloads as Glimpse.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const http = createServer();
// Compression as the Glimpse server configures it (server/app.ts), used when the client offers it.
const io = new Server(http, { maxHttpBufferSize: 8 * 1024 * 1024, perMessageDeflate: { threshold: 1024, serverNoContextTakeover: true, zlibDeflateOptions: { level: 1 } } });
io.on("connection", (socket) => {
  socket.on("join", (room: string, ack?: () => void) => {
    void socket.join(room);
    ack?.();
  });
  socket.on("frames", (room: string, payload: string) => socket.to(room).emit("frames", payload));
});
http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as { port: number };
  process.on("SIGTERM", () => process.exit(0));
  process.send!({ port });
});
