/**
 * Invitations: an agent in a session asks for a link that brings one colleague of the same group
 * into it. Needed for one-click sessions, which only the agent whose request started them may join
 * otherwise; for random-key sessions it saves reading the key aloud. A link is good once, for
 * INVITE_TTL_MS, while its session lives. Memory only: a restart forgets open invitations (a
 * colleague who has joined rejoins as anyone who was in the session does).
 */
import { randomSecret } from "./passwords";
import type { LiveSession } from "./sessions";

export const INVITE_TTL_MS = 10 * 60_000;
/** Open invitations one session may have at a time. */
export const MAX_OPEN_INVITES = 20;

interface Invite {
  session: LiveSession;
  by: string;
  expiresAt: number;
}

export class Invites {
  private readonly open = new Map<string, Invite>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A new invitation into `session` from agent `by`, or null when the session has too many open. */
  create(session: LiveSession, by: string): { token: string; expiresAt: number } | null {
    this.purge();
    let count = 0;
    for (const invite of this.open.values()) if (invite.session === session) count++;
    if (count >= MAX_OPEN_INVITES) return null;
    const token = randomSecret(32);
    const expiresAt = this.now() + INVITE_TTL_MS;
    this.open.set(token, { session, by, expiresAt });
    return { token, expiresAt };
  }

  /** The session an invitation opens, used up; null when unknown, used, expired or for another group. */
  redeem(groupId: string, token: string): { session: LiveSession; by: string } | null {
    const invite = this.open.get(token);
    if (!invite || invite.session.groupId !== groupId) return null;
    this.open.delete(token);
    return invite.expiresAt > this.now() ? { session: invite.session, by: invite.by } : null;
  }

  get size(): number {
    return this.open.size;
  }

  private purge(): void {
    const now = this.now();
    for (const [token, invite] of this.open) if (invite.expiresAt <= now) this.open.delete(token);
  }
}
