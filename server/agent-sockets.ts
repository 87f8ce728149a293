/**
 * Open agent sockets and the credential each was opened with (a console sign-in or an API token).
 * A credential is looked up again before every join, every `recheckMs` for all sockets, and at
 * once for all sockets after a sign-out (several nodes: on every node), so sign-out, expiry,
 * token revocation and agent removal (also done by the admin CLI in another process, on the same
 * database) close the agent's sockets within seconds. Between lookups, other actions go by the
 * last answer: the database (PostgreSQL: over the network) is not asked on every message.
 */
import { glimpseError } from "../src/errors";
import type { Peer } from "./peer";

export interface AgentSocket {
  peer: Peer;
  /** Whether the credential the socket was opened with still signs this agent in (a database lookup). */
  valid: () => Promise<boolean>;
}

/** The database did not answer a credential lookup: the action is refused, the socket stays. */
export class CredentialUnchecked extends Error {}

export class AgentSockets {
  /** Open sockets whose last lookup found the credential valid. */
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

  /** Whether `socket` may still act, by the last lookup (a revoked socket is closed already). */
  authorized(socket: AgentSocket): boolean {
    return this.open.has(socket);
  }

  /**
   * Look the credential up now; if it no longer signs the agent in, the socket is told so and
   * closed. Rejects with `CredentialUnchecked` when the database does not answer.
   */
  async check(socket: AgentSocket): Promise<boolean> {
    if (!this.open.has(socket)) return false;
    let valid: boolean;
    try {
      valid = await socket.valid();
    } catch (error) {
      throw new CredentialUnchecked((error as Error).message);
    }
    if (!valid && this.open.has(socket)) this.revoke(socket);
    return valid;
  }

  /** Check every open socket now (after a sign-out, and on the timer). A lookup that fails keeps the socket until the next. */
  sweep(): void {
    for (const socket of this.open) {
      this.check(socket).catch((error: Error) => console.error("glimpse: sign-in re-check failed", error.message));
    }
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
