/**
 * Adapts a `ws` socket to a Peer and guards it: Origin check, connections per IP, hello timeout,
 * size limits, heartbeat, and isolation of handler failures.
 */
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import { glimpseError, type ErrorCode } from "../src/errors";
import { matchesPattern } from "../src/settings";
import type { ServerConfig } from "./config";
import { depthWithin, MAX_JSON_DEPTH, PRE_HELLO_MAX_BYTES, WorkBudget } from "./frame-guard";
import type { Connection } from "./hub";
import type { Heartbeat } from "./heartbeat";
import { writeMessage } from "./outgoing";
import type { Peer } from "./peer";

let nextPeerId = 1;

export interface SocketGuard {
  config: ServerConfig;
  ip: string;
  origin: string | undefined;
  /** Origin patterns this endpoint accepts. */
  allowedOrigins: string[];
  /**
   * Refuse a connection without Origin (ORIGIN_REQUIRED). The visitor endpoint does: its only
   * client is the extension, whose browser always sends one; a script without Origin could
   * otherwise pose as any visitor. The agent endpoint admits API-token clients (CRM back ends).
   */
  requireOrigin?: boolean;
  counter: ConnectionCounter;
  heartbeat: Heartbeat;
}

/** Open sockets per IP address, per endpoint. */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();
  take(ip: string, max: number): boolean {
    const count = this.open.get(ip) ?? 0;
    if (count >= max) return false;
    this.open.set(ip, count + 1);
    return true;
  }
  release(ip: string): void {
    const count = (this.open.get(ip) ?? 1) - 1;
    if (count <= 0) this.open.delete(ip);
    else this.open.set(ip, count);
  }
}

/** How long a socket ws is closing after an error gets to send its close frame before it is cut. */
const CLOSE_FLUSH_MS = 1_000;

const errorText = (code: ErrorCode, message?: string) => JSON.stringify({ t: "error", ...glimpseError(code, message) });

/** `stream`: the upgraded connection under `socket`, whose writes are coalesced per turn (server/coalesce.ts). */
export function attachSocket(socket: WebSocket, guard: SocketGuard, connect: (peer: Peer) => Connection | null, stream?: Duplex): void {
  const { config } = guard;
  const deflate = socket.extensions.includes("permessage-deflate");
  const write = (message: Parameters<Peer["sendRaw"]>[0]) => writeMessage(socket, stream, deflate, message);
  const refuse = (code: ErrorCode, closeCode: number) => {
    write(errorText(code));
    socket.close(closeCode, code);
  };
  if (guard.origin === undefined && guard.requireOrigin) return refuse("ORIGIN_REQUIRED", 4403);
  if (guard.origin !== undefined && !guard.allowedOrigins.some((pattern) => matchesPattern(pattern, guard.origin!))) {
    return refuse("FORBIDDEN_ORIGIN", 4403);
  }
  if (!guard.counter.take(guard.ip, config.maxConnectionsPerIp)) return refuse("TOO_MANY_CONNECTIONS", 4429);

  const peer: Peer = {
    id: nextPeerId++,
    sendRaw: write,
    close(code, reason) {
      socket.close(code, reason);
    },
  };
  let released = false;
  const release = () => {
    if (!released) guard.counter.release(guard.ip);
    released = true;
  };
  const connection = connect(peer);
  if (!connection) {
    socket.once("close", release);
    return;
  }

  // One shared timer (server/heartbeat.ts) rather than an interval and a timeout per socket.
  const entry = guard.heartbeat.add(socket, connection, config.helloTimeoutMs);

  // What one client may cost (server/frame-guard.ts): checked before parsing, charged after.
  const budget = new WorkBudget(config.connectionCpuMsPerS);
  socket.on("message", (data, isBinary) => {
    entry.lastSeen = Date.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (isBinary) return peer.sendRaw(errorText("BAD_MESSAGE", "Binary frames are not part of the protocol."));
    if (!connection.greeted() && size > PRE_HELLO_MAX_BYTES) {
      peer.sendRaw(errorText("MESSAGE_TOO_LARGE", `The first message must be a hello of at most ${PRE_HELLO_MAX_BYTES} bytes; this one is ${size}.`));
      return socket.close(1009, "MESSAGE_TOO_LARGE");
    }
    if (size > config.maxMessageBytes) {
      return peer.sendRaw(errorText("MESSAGE_TOO_LARGE", `The message is ${size} bytes; the limit is ${config.maxMessageBytes}. It was dropped.`));
    }
    const started = performance.now();
    try {
      const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!depthWithin(raw, MAX_JSON_DEPTH)) peer.sendRaw(errorText("BAD_MESSAGE", `The message nests deeper than ${MAX_JSON_DEPTH} levels. It was dropped.`));
      else connection.onText(raw.toString(), raw);
    } catch (error) {
      // One broken message must not take the connection (or the server) down with it.
      console.error("glimpse: handler failed", error);
      peer.sendRaw(errorText("INTERNAL"));
    }
    if (!budget.spend(performance.now() - started) && socket.readyState === socket.OPEN) {
      peer.sendRaw(errorText("BUDGET_EXCEEDED"));
      socket.close(1008, "BUDGET_EXCEEDED");
    }
  });
  socket.on("close", () => {
    guard.heartbeat.remove(entry);
    release();
    connection.onClose();
  });
  socket.on("error", () => {
    // Over the hard cap (or on a protocol error) ws has already queued a close frame with its code
    // (1009, 1002). Cutting the connection now can drop that frame while compressed frames are still
    // ahead of it in the queue, and the client then sees 1006; give it a moment to go out first.
    if (socket.readyState === socket.CLOSING) setTimeout(() => socket.terminate(), CLOSE_FLUSH_MS).unref();
    else socket.terminate();
  });
}
