/**
 * The session WebSocket (opened when the visitor shares, closed when the session ends).
 * Translates server messages into state-machine events; reconnects a live session with the pure
 * backoff policy from src/reconnect.ts. Presence has its own socket (background/presence.ts).
 */
import type { Identity } from "~src/identity";
import { PROTOCOL_VERSION, type ServerToVisitor, type VisitorToServer } from "~src/protocol";

export type AgentMark = Extract<ServerToVisitor, { t: "pointer" | "highlight" | "draw" }>;
export type ControlMessage = Extract<ServerToVisitor, { t: "controlRequest" | "controlReleased" | "control" }>;
import { backoffDelay, DEFAULT_BACKOFF, type BackoffPolicy } from "~src/reconnect";
import type { VisitorEvent } from "~src/visitor/machine";
import { openSocket, type VisitorSocket } from "./socket";

export type Resume = { sessionKey: string; token: string } | null;

/** A reconnect gives up after ~30 s (1+2+4+8+16 s), about the server's resume grace. */
const RECONNECT: BackoffPolicy = { ...DEFAULT_BACKOFF, maxAttempts: 5, maxMs: 16_000 };

export interface ConnectionDeps {
  socketUrl: () => Promise<string>;
  groupId: () => Promise<string>;
  emit: (event: VisitorEvent) => void;
  /** An agent's pointer moved or highlight changed (transient: not state-machine events). */
  mark: (message: AgentMark) => void;
  /** An agent asks for, gives up, or uses control of the page. */
  control: (message: ControlMessage) => void;
}

export class ServerConnection {
  private socket: VisitorSocket | null = null;
  private reconnecting: { resume: NonNullable<Resume>; attempt: number; timer: ReturnType<typeof setTimeout> | null } | null = null;

  constructor(private readonly deps: ConnectionDeps) {}

  /**
   * Open a fresh connection (closing any previous one). A one-click session presents the
   * visitor's identity; a resumed session proves itself with its resume token instead.
   */
  async open(resume: Resume, identity: Credentials | null = null): Promise<void> {
    this.closeSocket();
    const [url, groupId] = await Promise.all([this.deps.socketUrl(), this.deps.groupId()]);
    const hello: VisitorToServer = {
      t: "hello",
      v: PROTOCOL_VERSION,
      groupId,
      client: "glimpse-extension",
      role: "session",
      ...(resume ? { resume } : {}),
      ...(!resume && identity ? identityFields(identity) : {}),
    };
    const socket = openSocket(url, hello, {
      onWelcome: () => {
        this.reconnecting = null;
        this.deps.emit({ type: "connected" });
      },
      onMessage: (message) => {
        if (socket !== this.socket) return;
        const now = Date.now();
        switch (message.t) {
          case "sessionStarted":
            return this.deps.emit({ type: "started", sessionKey: message.sessionKey, keyType: message.keyType, resumeToken: message.resumeToken, now });
          case "sessionResumed":
            return this.deps.emit({ type: "resumed", count: message.count, agents: message.agents });
          case "guests":
            return this.deps.emit({ type: "guests", count: message.count, agents: message.agents });
          case "snapshotRequest":
            return this.deps.emit({ type: "snapshotRequest" });
          case "pointer":
          case "highlight":
          case "draw":
            return this.deps.mark(message);
          case "controlRequest":
          case "controlReleased":
          case "control":
            return this.deps.control(message);
          case "sessionEnded":
            return this.deps.emit({ type: "ended", reason: message.reason, now });
          case "error":
            return this.deps.emit({ type: "error", code: message.code, now });
        }
      },
      onClose: () => {
        if (socket !== this.socket) return;
        this.socket = null;
        if (this.reconnecting) return this.scheduleAttempt();
        this.deps.emit({ type: "disconnected", now: Date.now() });
      },
    });
    this.socket = socket;
  }

  /** Keep trying to get back into a live session. */
  reconnect(resume: NonNullable<Resume>): void {
    if (this.reconnecting) return;
    this.reconnecting = { resume, attempt: 0, timer: null };
    this.scheduleAttempt();
  }

  send(message: VisitorToServer): void {
    this.socket?.send(message);
  }

  close(): void {
    if (this.reconnecting?.timer) clearTimeout(this.reconnecting.timer);
    this.reconnecting = null;
    this.closeSocket();
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
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
}

/** A linked identity, or (one-click session) the ticket of the request the visitor accepted. */
export type Credentials = Identity & { ticket?: string };

export function identityFields(identity: Credentials) {
  return {
    visitorId: identity.visitorId,
    // A ticket proves what the presence connection proved: the token (which may have expired since) is not sent again.
    ...(identity.ticket ? { ticket: identity.ticket } : identity.token ? { token: identity.token } : {}),
    ...(identity.name ? { name: identity.name } : {}),
    ...(identity.email ? { email: identity.email } : {}),
  };
}
