/** One visitor WebSocket: hello, ping/pong, validated messages in, typed messages out. */
import { parseServerToVisitor, type ServerToVisitor, type VisitorToServer } from "~src/protocol";

type Welcome = Extract<ServerToVisitor, { t: "welcome" }>;

export interface SocketHandlers {
  onWelcome(welcome: Welcome): void;
  onMessage(message: Exclude<ServerToVisitor, { t: "welcome" | "ping" }>): void;
  /** The socket closed (or never opened); `welcomed` tells whether the server had accepted it. */
  onClose(welcomed: boolean): void;
}

export interface VisitorSocket {
  send(message: VisitorToServer): void;
  close(): void;
}

export function openSocket(url: string, hello: VisitorToServer, handlers: SocketHandlers): VisitorSocket {
  let welcomed = false;
  let closed = false;
  let socket: WebSocket;
  const finish = () => {
    if (closed) return;
    closed = true;
    handlers.onClose(welcomed);
  };
  try {
    socket = new WebSocket(url);
  } catch {
    // An unusable server URL: report it like a refused connection, after the caller has the handle.
    queueMicrotask(finish);
    return { send() {}, close() {} };
  }
  socket.onopen = () => socket.send(JSON.stringify(hello));
  socket.onmessage = (event) => {
    if (closed) return;
    const parsed = parseServerToVisitor(String(event.data));
    if (!parsed.ok) return console.warn("glimpse: ignored a bad server message", parsed.error.message);
    const message = parsed.value;
    if (message.t === "ping") return socket.send('{"t":"pong"}');
    if (message.t === "welcome") {
      welcomed = true;
      return handlers.onWelcome(message);
    }
    handlers.onMessage(message);
  };
  socket.onclose = finish;
  return {
    send(message) {
      if (!closed && welcomed && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    close() {
      closed = true;
      if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, "bye");
      // Queued messages (endSession) still go out before the close frame.
      else socket.close(1000, "bye");
    },
  };
}
