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
  // Silence for three ping intervals means a dead route: a black hole closes nothing, and the browser
  // would wait minutes for TCP to give up. (The server lets go after 2.5; its pings are paced by a 1 s tick.)
  let silenceMs = 0;
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const heard = () => {
    if (!silenceMs) return;
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      socket.onclose = null;
      socket.close(4000, "no ping");
      finish();
    }, silenceMs);
  };
  const finish = () => {
    clearTimeout(watchdog);
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
    heard();
    const parsed = parseServerToVisitor(String(event.data));
    if (!parsed.ok) return console.warn("glimpse: ignored a bad server message", parsed.error.message);
    const message = parsed.value;
    if (message.t === "ping") return socket.send('{"t":"pong"}');
    if (message.t === "welcome") {
      welcomed = true;
      if (message.pingMs) silenceMs = message.pingMs * 3;
      heard();
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
      clearTimeout(watchdog);
      closed = true;
      if (socket.readyState === WebSocket.CONNECTING) socket.onopen = () => socket.close(1000, "bye");
      // Queued messages (endSession) still go out before the close frame.
      else socket.close(1000, "bye");
    },
  };
}
