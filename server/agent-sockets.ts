/**
 * Open agent sockets and the credential each was opened with (a console sign-in or an API token).
 * A credential is checked again before every action that grants access, and every
 * `recheckMs` for all sockets, so sign-out, expiry, token revocation and agent removal (also
 * done by the admin CLI in another process, on the same database) close the agent's sockets
 * within seconds.
 */
import { glimpseError } from "../src/errors";
import type { Peer } from "./peer";

export interface AgentSocket {
  peer: Peer;
  /** Whether the credential the socket was opened with still signs this agent in. */
  valid: () => boolean;
}

export class AgentSockets {
  private readonly open = new Set<AgentSocket>();
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(recheckMs: number) {
    this.timer = setInterval(() => this.sweep(), recheckMs);
    this.timer.unref();
  }

  add(socket: AgentSocket): () => void {
    this.open.add(socket);
    return () => this.open.delete(socket);
  }

  /** Whether `socket` may still act; if not, it is told so and closed. */
  authorized(socket: AgentSocket): boolean {
    if (socket.valid()) return true;
    this.revoke(socket);
    return false;
  }

  /** Check every open socket now (after a sign-out, and on the timer). */
  sweep(): void {
    for (const socket of this.open) this.authorized(socket);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private revoke(socket: AgentSocket): void {
    this.open.delete(socket);
    socket.peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("NOT_AUTHORIZED", "Your sign-in ended (signed out, expired or revoked). Sign in again.") }));
    socket.peer.close(4401, "NOT_AUTHORIZED");
  }
}
