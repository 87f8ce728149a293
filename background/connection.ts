/**
 * The background's one WebSocket to the server. Translates server messages into state-machine
 * events; reconnects (for a live session) with the pure backoff policy from src/reconnect.ts.
 */
import { PROTOCOL_VERSION, parseServerToVisitor, type VisitorToServer } from "~src/protocol";
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "~src/reconnect";
import type { VisitorEvent } from "~src/visitor/machine";

export type Resume = { sessionKey: string; token: string } | null;

/** A reconnect gives up after ~30 s (1+2+4+8+16 s), about the server's resume grace. */
const RECONNECT: BackoffPolicy = { ...DEFAULT_BACKOFF, maxAttempts: 5, maxMs: 16_000 };

export interface ConnectionDeps {
  socketUrl: () => Promise<string>;
  groupId: () => Promise<string>;
  emit: (event: VisitorEvent) => void;
}

export class ServerConnection {
  private socket: WebSocket | null = null;
  private welcomed = false;
  private reconnecting: { resume: NonNullable<Resume>; attempt: number; timer: ReturnType<typeof setTimeout> | null } | null = null;

  constructor(private readonly deps: ConnectionDeps) {}

  /** Open a fresh connection (closing any previous one). */
  async open(resume: Resume): Promise<void> {
    this.closeSocket();
    const [url, groupId] = await Promise.all([this.deps.socketUrl(), this.deps.groupId()]);
    let socket: WebSocket;
    try {
      socket = new WebSocket(url);
    } catch {
      // An unusable server URL: treat it like a refused connection.
      if (this.reconnecting) return this.scheduleAttempt();
      return this.deps.emit({ type: "disconnected", now: Date.now() });
    }
    this.socket = socket;
    this.welcomed = false;
    socket.onopen = () => {
      const hello: VisitorToServer = { t: "hello", v: PROTOCOL_VERSION, groupId, client: "glimpse-extension", ...(resume ? { resume } : {}) };
      socket.send(JSON.stringify(hello));
    };
    socket.onmessage = (event) => this.onMessage(socket, String(event.data));
    socket.onclose = () => this.lost(socket);
  }

  /** Keep trying to get back into a live session. */
  reconnect(resume: NonNullable<Resume>): void {
    if (this.reconnecting) return;
    this.reconnecting = { resume, attempt: 0, timer: null };
    this.scheduleAttempt();
  }

  send(message: VisitorToServer): void {
    if (this.socket?.readyState === WebSocket.OPEN && this.welcomed) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    if (this.reconnecting?.timer) clearTimeout(this.reconnecting.timer);
    this.reconnecting = null;
    this.closeSocket();
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    if (!socket) return;
    socket.onclose = null;
    socket.onmessage = null;
    if (socket.readyState === WebSocket.OPEN) {
      // Let queued messages (endSession) go out before closing.
      socket.close(1000, "bye");
    } else if (socket.readyState === WebSocket.CONNECTING) {
      socket.onopen = () => socket.close(1000, "bye");
    }
  }

  private scheduleAttempt(): void {
    const state = this.reconnecting;
    if (!state) return;
    const delay = backoffDelay(state.attempt, Math.random, RECONNECT);
    if (delay === null) {
      this.reconnecting = null;
      return this.deps.emit({ type: "error", code: "SERVER_UNREACHABLE", now: Date.now() });
    }
    state.attempt++;
    state.timer = setTimeout(() => void this.open(state.resume), delay);
  }

  private onMessage(socket: WebSocket, text: string): void {
    if (socket !== this.socket) return;
    const parsed = parseServerToVisitor(text);
    if (!parsed.ok) return console.warn("glimpse: ignored a bad server message", parsed.error.message);
    const message = parsed.value;
    const now = Date.now();
    switch (message.t) {
      case "ping":
        return socket.send('{"t":"pong"}');
      case "welcome":
        this.welcomed = true;
        this.reconnecting = null;
        return this.deps.emit({ type: "connected" });
      case "sessionStarted":
        return this.deps.emit({ type: "started", sessionKey: message.sessionKey, keyType: message.keyType, resumeToken: message.resumeToken, now });
      case "sessionResumed":
        return this.deps.emit({ type: "resumed", count: message.count, agents: message.agents });
      case "guests":
        return this.deps.emit({ type: "guests", count: message.count, agents: message.agents });
      case "snapshotRequest":
        return this.deps.emit({ type: "snapshotRequest" });
      case "sessionEnded":
        return this.deps.emit({ type: "ended", reason: message.reason, now });
      case "error":
        return this.deps.emit({ type: "error", code: message.code, now });
    }
  }

  private lost(socket: WebSocket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.welcomed = false;
    if (this.reconnecting) return this.scheduleAttempt();
    this.deps.emit({ type: "disconnected", now: Date.now() });
  }
}
