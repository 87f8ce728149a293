/**
 * The in-memory session registry: keys, who is in which session, expiry and the visitor's
 * reconnect grace. Kept behind this class so a shared (Redis) registry can replace it later
 * without touching the protocol handlers.
 */
import { randomInt as cryptoRandomInt } from "node:crypto";
import { generateKey, type RandomInt } from "../src/keys";
import type { EndReason, KeyType, Page } from "../src/protocol";
import { send, type Peer } from "./peer";
import { randomSecret } from "./passwords";
import type { Store } from "./store";

export interface LiveSession {
  key: string;
  groupId: string;
  keyType: KeyType;
  site: string;
  resumeToken: string;
  visitor: Peer | null;
  agents: Map<Peer, string>;
  agentsSeen: Set<string>;
  page: Page | null;
  paused: boolean;
  auditId: number;
  expiryTimer: NodeJS.Timeout | null;
  graceTimer: NodeJS.Timeout | null;
}

export type Lookup = { session: LiveSession } | { code: "KEY_NOT_FOUND" | "KEY_EXPIRED" };

export interface RegistryOptions {
  store: Store;
  keyTtlMs: number;
  resumeGraceMs: number;
  now?: () => number;
  randomInt?: RandomInt;
}

/** How long an expired key is remembered, to tell the agent "expired" rather than "not found". */
const TOMBSTONE_MS = 60 * 60_000;

export class SessionRegistry {
  private readonly sessions = new Map<string, LiveSession>();
  private readonly byVisitor = new Map<Peer, LiveSession>();
  private readonly byAgent = new Map<Peer, LiveSession>();
  private readonly expired = new Map<string, number>();
  private readonly now: () => number;
  private readonly randomInt: RandomInt;

  constructor(private readonly options: RegistryOptions) {
    this.now = options.now ?? Date.now;
    this.randomInt = options.randomInt ?? ((max) => cryptoRandomInt(max));
  }

  get size(): number {
    return this.sessions.size;
  }

  create(groupId: string, keyLength: number, keyType: KeyType, site: string, visitor: Peer): LiveSession {
    let key: string;
    do key = generateKey(keyLength, this.randomInt);
    while (this.sessions.has(id(groupId, key)) || this.expired.has(id(groupId, key)));
    const session: LiveSession = {
      key,
      groupId,
      keyType,
      site,
      resumeToken: randomSecret(),
      visitor,
      agents: new Map(),
      agentsSeen: new Set(),
      page: null,
      paused: false,
      auditId: this.options.store.auditStart({ groupId, sessionKey: key, keyType, site, startedAt: this.now() }),
      expiryTimer: null,
      graceTimer: null,
    };
    session.expiryTimer = setTimeout(() => this.expire(session), this.options.keyTtlMs);
    session.expiryTimer.unref();
    this.sessions.set(id(groupId, key), session);
    this.byVisitor.set(visitor, session);
    return session;
  }

  lookup(groupId: string, key: string): Lookup {
    const session = this.sessions.get(id(groupId, key));
    if (session) return { session };
    const expiredAt = this.expired.get(id(groupId, key));
    if (expiredAt !== undefined && this.now() - expiredAt < TOMBSTONE_MS) return { code: "KEY_EXPIRED" };
    return { code: "KEY_NOT_FOUND" };
  }

  ofVisitor(peer: Peer): LiveSession | null {
    return this.byVisitor.get(peer) ?? null;
  }

  ofAgent(peer: Peer): LiveSession | null {
    return this.byAgent.get(peer) ?? null;
  }

  join(session: LiveSession, agent: Peer, username: string): void {
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    session.expiryTimer = null;
    session.agents.set(agent, username);
    session.agentsSeen.add(username);
    this.byAgent.set(agent, session);
    this.announceGuests(session);
  }

  leave(agent: Peer): void {
    const session = this.byAgent.get(agent);
    if (!session) return;
    this.byAgent.delete(agent);
    session.agents.delete(agent);
    this.announceGuests(session);
  }

  /** The visitor's socket closed: keep the session for the grace period in case it comes back. */
  visitorGone(visitor: Peer): void {
    const session = this.byVisitor.get(visitor);
    if (!session) return;
    this.byVisitor.delete(visitor);
    session.visitor = null;
    this.toAgents(session, JSON.stringify({ t: "visitorConnection", connected: false }));
    session.graceTimer = setTimeout(() => this.end(session, "visitor_left"), this.options.resumeGraceMs);
    session.graceTimer.unref();
  }

  /** A visitor proves it owns the session with the resume token it was given at start. */
  resume(groupId: string, key: string, token: string, visitor: Peer): LiveSession | null {
    const session = this.sessions.get(id(groupId, key));
    if (!session || session.resumeToken !== token) return null;
    if (session.visitor && session.visitor !== visitor) {
      this.byVisitor.delete(session.visitor);
      session.visitor.close(4000, "replaced by a resumed connection");
    }
    if (session.graceTimer) clearTimeout(session.graceTimer);
    session.graceTimer = null;
    session.visitor = visitor;
    this.byVisitor.set(visitor, session);
    this.toAgents(session, JSON.stringify({ t: "visitorConnection", connected: true }));
    return session;
  }

  end(session: LiveSession, reason: EndReason): void {
    if (!this.sessions.delete(id(session.groupId, session.key))) return;
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    if (session.graceTimer) clearTimeout(session.graceTimer);
    const ended = JSON.stringify({ t: "sessionEnded", reason });
    if (session.visitor) {
      this.byVisitor.delete(session.visitor);
      session.visitor.sendRaw(ended);
    }
    for (const agent of session.agents.keys()) {
      this.byAgent.delete(agent);
      agent.sendRaw(ended);
    }
    session.agents.clear();
    this.options.store.auditEnd(session.auditId, this.now(), reason, [...session.agentsSeen]);
  }

  endAll(reason: EndReason): void {
    for (const session of [...this.sessions.values()]) this.end(session, reason);
  }

  toAgents(session: LiveSession, text: string): void {
    for (const agent of session.agents.keys()) agent.sendRaw(text);
  }

  private expire(session: LiveSession): void {
    if (session.agents.size > 0) return;
    this.expired.set(id(session.groupId, session.key), this.now());
    this.pruneTombstones();
    this.end(session, "expired");
  }

  private pruneTombstones(): void {
    const cutoff = this.now() - TOMBSTONE_MS;
    for (const [key, at] of this.expired) if (at < cutoff) this.expired.delete(key);
  }

  private announceGuests(session: LiveSession): void {
    const agents = [...new Set(session.agents.values())];
    const message = { t: "guests" as const, count: session.agents.size, agents };
    if (session.visitor) send(session.visitor, message);
    this.toAgents(session, JSON.stringify(message));
  }
}

const id = (groupId: string, key: string) => `${groupId}:${key}`;
