/** Adapts a `ws` socket to a Peer: size limits, heartbeat, and isolation of handler failures. */
import type { WebSocket } from "ws";
import { glimpseError } from "../src/errors";
import type { ServerConfig } from "./config";
import type { Connection } from "./hub";
import type { Peer } from "./peer";

let nextPeerId = 1;

export function attachSocket(socket: WebSocket, config: ServerConfig, connect: (peer: Peer) => Connection | null): void {
  const peer: Peer = {
    id: nextPeerId++,
    sendRaw(text) {
      if (socket.readyState === socket.OPEN) socket.send(text);
    },
    close(code, reason) {
      socket.close(code, reason);
    },
  };
  const connection = connect(peer);
  if (!connection) return;

  let lastSeen = Date.now();
  const heartbeat = setInterval(() => {
    if (Date.now() - lastSeen > config.pingMs * 2.5) return socket.terminate();
    peer.sendRaw('{"t":"ping"}');
  }, config.pingMs);
  heartbeat.unref();

  socket.on("message", (data, isBinary) => {
    lastSeen = Date.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (isBinary) return peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("BAD_MESSAGE", "Binary frames are not part of the protocol.") }));
    if (size > config.maxMessageBytes) {
      const message = `The message is ${size} bytes; the limit is ${config.maxMessageBytes}. It was dropped.`;
      return peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("MESSAGE_TOO_LARGE", message) }));
    }
    try {
      connection.onText(data.toString());
    } catch (error) {
      // One broken message must not take the connection (or the server) down with it.
      console.error("glimpse: handler failed", error);
      peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("INTERNAL") }));
    }
  });
  socket.on("close", () => {
    clearInterval(heartbeat);
    connection.onClose();
  });
  socket.on("error", () => socket.terminate());
}
