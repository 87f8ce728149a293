/**
 * Adapts a `ws` socket to a Peer and guards it: Origin check, connections per IP, hello timeout,
 * size limits, heartbeat, and isolation of handler failures.
 */
import type { Duplex } from "node:stream";
import type { RawData, WebSocket } from "ws";
import { glimpseError, type ErrorCode } from "../src/errors";
import { matchesPattern } from "../src/settings";
import type { ServerConfig } from "./config";
import { depthWithin, MAX_JSON_DEPTH, PRE_HELLO_MAX_BYTES, WorkBudget } from "./frame-guard";
import type { Connection } from "./hub";
import type { Beat, Heartbeat } from "./heartbeat";
import type { Metrics } from "./metrics";
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
  metrics: Metrics;
}

/** Open sockets per IP address, per endpoint. */
export class ConnectionCounter {
  private readonly open = new Map<string, number>();
  /** Open sockets from every address. */
  total = 0;
  take(ip: string, max: number): boolean {
    const count = this.open.get(ip) ?? 0;
    if (count >= max) return false;
    this.open.set(ip, count + 1);
    this.total++;
    return true;
  }
  release(ip: string): void {
    if (this.open.has(ip)) this.total--;
    const count = (this.open.get(ip) ?? 1) - 1;
    if (count <= 0) this.open.delete(ip);
    else this.open.set(ip, count);
  }
}

/** How long a socket ws is closing after an error gets to send its close frame before it is cut. */
const CLOSE_FLUSH_MS = 1_000;

const errorText = (code: ErrorCode, message?: string) => JSON.stringify({ t: "error", ...glimpseError(code, message) });

/** The guard behind a ws socket, for the listeners below (shared by every socket: no closures per socket). */
const GUARDED = Symbol("glimpse.guarded");
type Guarded = WebSocket & { [GUARDED]: GuardedSocket };
const guardOf = (socket: WebSocket) => (socket as Guarded)[GUARDED];

function onSocketMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  guardOf(this).onMessage(data, isBinary);
}
function onSocketClose(this: WebSocket): void {
  guardOf(this).onClose();
}
function onSocketError(this: WebSocket): void {
  // Over the hard cap (or on a protocol error) ws has already queued a close frame with its code
  // (1009, 1002). Cutting the connection now can drop that frame while compressed frames are still
  // ahead of it in the queue, and the client then sees 1006; give it a moment to go out first.
  if (this.readyState === this.CLOSING) setTimeout(() => this.terminate(), CLOSE_FLUSH_MS).unref();
  else this.terminate();
}
function releaseSlot(this: WebSocket): void {
  guardOf(this).release();
}

/**
 * One `ws` socket as a Peer, with its guards. A class rather than closures: at 10,000 idle
 * presence connections every per-socket function and context shows in the heap (bench/presence.ts).
 */
class GuardedSocket implements Peer {
  readonly id = nextPeerId++;
  private readonly deflate: boolean;
  private released = false;
  private connection: Connection | null = null;
  private entry: Beat | null = null;
  /** What one client may cost (server/frame-guard.ts): checked before parsing, charged after. */
  private readonly budget: WorkBudget;

  constructor(
    private readonly socket: WebSocket,
    private readonly guard: SocketGuard,
    /** The upgraded connection under `socket`, whose writes are coalesced per turn (server/coalesce.ts). */
    private readonly stream: Duplex | undefined,
  ) {
    this.deflate = socket.extensions.includes("permessage-deflate");
    this.budget = new WorkBudget(guard.config.connectionCpuMsPerS);
    (socket as Guarded)[GUARDED] = this;
  }

  sendRaw(message: Parameters<Peer["sendRaw"]>[0]): void {
    // Relayed frames are Buffers; of the strings, errors are counted by code (GET /metrics).
    if (typeof message === "string" && message.startsWith('{"t":"error"')) this.guard.metrics.errorText(message);
    writeMessage(this.socket, this.stream, this.deflate, message);
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /** Checks that need no connection (a refused socket is told why and closed), then the connection. */
  start(connect: (peer: Peer) => Connection | null): void {
    const { guard, socket } = this;
    if (guard.origin === undefined && guard.requireOrigin) return this.refuse("ORIGIN_REQUIRED", 4403);
    if (guard.origin !== undefined && !guard.allowedOrigins.some((pattern) => matchesPattern(pattern, guard.origin!))) {
      return this.refuse("FORBIDDEN_ORIGIN", 4403);
    }
    if (!guard.counter.take(guard.ip, guard.config.maxConnectionsPerIp)) return this.refuse("TOO_MANY_CONNECTIONS", 4429);
    this.connection = connect(this);
    if (!this.connection) {
      socket.once("close", releaseSlot);
      return;
    }
    // One shared timer (server/heartbeat.ts) rather than an interval and a timeout per socket.
    this.entry = guard.heartbeat.add(socket, this.connection, guard.config.helloTimeoutMs);
    socket.on("message", onSocketMessage);
    socket.on("close", onSocketClose);
    socket.on("error", onSocketError);
  }

  private refuse(code: ErrorCode, closeCode: number): void {
    this.sendRaw(errorText(code));
    this.socket.close(closeCode, code);
  }

  release(): void {
    if (!this.released) this.guard.counter.release(this.guard.ip);
    this.released = true;
  }

  onMessage(data: RawData, isBinary: boolean): void {
    const { config } = this.guard;
    const connection = this.connection!;
    this.entry!.lastSeen = Date.now();
    const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as Buffer | ArrayBuffer).byteLength;
    if (isBinary) return this.sendRaw(errorText("BAD_MESSAGE", "Binary frames are not part of the protocol."));
    if (!connection.greeted() && size > PRE_HELLO_MAX_BYTES) {
      this.sendRaw(errorText("MESSAGE_TOO_LARGE", `The first message must be a hello of at most ${PRE_HELLO_MAX_BYTES} bytes; this one is ${size}.`));
      return this.socket.close(1009, "MESSAGE_TOO_LARGE");
    }
    if (size > config.maxMessageBytes) {
      return this.sendRaw(errorText("MESSAGE_TOO_LARGE", `The message is ${size} bytes; the limit is ${config.maxMessageBytes}. It was dropped.`));
    }
    const started = performance.now();
    try {
      const raw = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      if (!depthWithin(raw, MAX_JSON_DEPTH)) this.sendRaw(errorText("BAD_MESSAGE", `The message nests deeper than ${MAX_JSON_DEPTH} levels. It was dropped.`));
      else connection.onText(raw.toString(), raw);
    } catch (error) {
      // One broken message must not take the connection (or the server) down with it.
      console.error("glimpse: handler failed", error);
      this.sendRaw(errorText("INTERNAL"));
    }
    if (!this.budget.spend(performance.now() - started) && this.socket.readyState === this.socket.OPEN) {
      this.sendRaw(errorText("BUDGET_EXCEEDED"));
      this.socket.close(1008, "BUDGET_EXCEEDED");
    }
  }

  onClose(): void {
    this.guard.heartbeat.remove(this.entry!);
    this.release();
    this.connection!.onClose();
  }
}

/** `stream`: the upgraded connection under `socket`, whose writes are coalesced per turn (server/coalesce.ts). */
export function attachSocket(socket: WebSocket, guard: SocketGuard, connect: (peer: Peer) => Connection | null, stream?: Duplex): void {
  new GuardedSocket(socket, guard, stream).start(connect);
}
