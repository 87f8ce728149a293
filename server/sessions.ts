/**
 * The session registry: keys, who is in which session, expiry and the visitor's reconnect grace.
 * Sockets and timers live in memory; what a restarted server needs to take a session back (key,
 * site, the resume token's hash, who may join, the audit row) is kept in the store, so a restart
 * is a dropped connection to both sides: the visitor resumes, the agents rejoin the same key.
 * Kept behind this class so a shared (Redis) registry can replace it later without touching the
 * protocol handlers.
 */
import { randomInt as cryptoRandomInt } from "node:crypto";
import { generateKey, type RandomInt } from "../src/keys";
import type { ControlState, EndReason, KeyType, Page, PauseReason } from "../src/protocol";
import { SessionAssets } from "./assets";
import { send, type Peer } from "./peer";
import { randomSecret, safeEqual } from "./passwords";
import { setTimeout as sleep } from "node:timers/promises";
import { newAuditId, sha256, StoreUnavailable, type Awaitable, type LiveSessionRow, type StoreApi } from "./store";
import { Outgoing } from "./outgoing";

export interface LiveSession {
  key: string;
  groupId: string;
  keyType: KeyType;
  site: string;
  /** sha256 of the token the visitor resumes with; the token itself went only to the visitor. */
  resumeHash: string;
  visitor: Peer | null;
  agents: Map<Peer, string>;
  agentsSeen: Set<string>;
  page: Page | null;
  /** The agent who controls the visitor's page or has asked to (one at a time); memory only. */
  control: { agent: string; state: "asked" | "granted" | "suspended" } | null;
  /** The agents see a placeholder until the next page, and why; null while the page is shown. */
  paused: PauseReason | null;
  /** Resources the visitor's extension carried for the agents' view (memory only). */
  assets: SessionAssets;
  auditId: number;
  /** One-click: the agent (username) whose accepted request started it; only they join it. */
  allowedAgent: string | null;
  /** When the key expires unless an agent joins; null once one has. */
  expiresAt: number | null;
  expiryTimer: NodeJS.Timeout | null;
  graceTimer: NodeJS.Timeout | null;
}

export interface NewSession {
  groupId: string;
  keyLength: number;
  /** "random": a fresh numeric key; "visitor": a one-click session keyed by `visitorId`. */
  keyType: KeyType;
  site: string;
  visitor: Peer;
  visitorId?: string;
  /** One-click: the agent whose accepted request started it. */
  allowedAgent?: string;
}

export type Lookup = { session: LiveSession } | { code: "KEY_NOT_FOUND" | "KEY_EXPIRED" };

/** Several nodes (server/cluster.ts): told when this node takes a session and when one ends here. */
export interface SessionDirectory {
  owned(session: LiveSession): void;
  ended(session: LiveSession): void;
}

/** Told when a session starts here and when one ends (webhooks); not when one is taken back or let go. */
export interface SessionLifecycle {
  started(session: LiveSession, startedAt: number): void;
  ended(session: LiveSession, reason: EndReason, endedAt: number): void;
}

export interface RegistryOptions {
  store: StoreApi;
  lifecycle?: SessionLifecycle;
  directory?: SessionDirectory;
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
  private readonly writes = new OrderedWrites();

  constructor(private readonly options: RegistryOptions) {
    this.now = options.now ?? Date.now;
    this.randomInt = options.randomInt ?? ((max) => cryptoRandomInt(max));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Live sessions by key type (metrics). */
  sizeByKeyType(): Record<KeyType, number> {
    const counts = { random: 0, visitor: 0 };
    for (const session of this.sessions.values()) counts[session.keyType]++;
    return counts;
  }

  /** Every session this process holds. */
  all(): IterableIterator<LiveSession> {
    return this.sessions.values();
  }

  /** Agents connected to a session. */
  get viewers(): number {
    return this.byAgent.size;
  }

  /**
   * A random-key session, or (keyType "visitor") a one-click session keyed by the visitor ID. The
   * resume token is returned once, for the visitor; the registry keeps only its hash.
   */
  create({ groupId, keyLength, keyType, site, visitor, visitorId, allowedAgent }: NewSession): { session: LiveSession; resumeToken: string } {
    let key: string;
    if (keyType === "visitor") {
      if (!visitorId) throw new Error("a visitor session needs a visitor ID");
      key = visitorId;
      this.expired.delete(id(groupId, key, keyType));
    } else {
      do key = generateKey(keyLength, this.randomInt);
      while (this.sessions.has(id(groupId, key, keyType)) || this.expired.has(id(groupId, key, keyType)));
    }
    const resumeToken = randomSecret();
    const auditId = newAuditId();
    const startedAt = this.now();
    const session = liveSession({
      key,
      groupId,
      keyType,
      site,
      resumeHash: sha256(resumeToken),
      visitor,
      agentsSeen: [],
      auditId,
      allowedAgent: allowedAgent ?? null,
      expiresAt: this.now() + this.options.keyTtlMs,
    });
    this.sessions.set(id(groupId, key, keyType), session);
    this.byVisitor.set(visitor, session);
    this.scheduleExpiry(session);
    this.write(session, (store) => store.auditStart({ id: auditId, groupId, sessionKey: key, keyType, site, startedAt }));
    this.persist(session);
    this.options.directory?.owned(session);
    this.options.lifecycle?.started(session, startedAt);
    return { session, resumeToken };
  }

  /**
   * After a restart: every session the last process kept, each waiting for its visitor to resume
   * within the grace (as after a dropped connection) and for its agents to join again.
   */
  async restore(): Promise<void> {
    for (const row of await this.options.store.liveSessions()) if (!this.sessions.has(id(row.groupId, row.key, row.keyType as KeyType))) this.takeBack(row);
  }

  /**
   * Several nodes: a kept session this node takes over, because its owner died or its visitor
   * resumed here. Like a restart: the visitor resumes within the grace, agents join again.
   */
  async adopt(groupId: string, keyType: KeyType, key: string): Promise<LiveSession | null> {
    const existing = this.sessions.get(id(groupId, key, keyType));
    if (existing) return existing;
    const row = await this.options.store.liveSession(groupId, keyType, key);
    // Taken back meanwhile (another join or resume while the store answered): that one.
    return this.sessions.get(id(groupId, key, keyType)) ?? (row ? this.takeBack(row) : null);
  }

  /**
   * Several nodes: the session's visitor resumed on another node, which owns it now. Let go of it
   * without ending it: the visitor's old socket is closed, the agents' too with 1012, so that
   * their consoles reconnect and rejoin the key on its new owner.
   */
  release(groupId: string, keyType: KeyType, key: string): void {
    const session = this.sessions.get(id(groupId, key, keyType));
    if (!session) return;
    this.sessions.delete(id(groupId, key, keyType));
    if (session.expiryTimer) clearTimeout(session.expiryTimer);
    if (session.graceTimer) clearTimeout(session.graceTimer);
    if (session.visitor) {
      this.byVisitor.delete(session.visitor);
      session.visitor.close(4000, "replaced by a resumed connection");
    }
    for (const agent of session.agents.keys()) {
      this.byAgent.delete(agent);
      agent.close(1012, "session moving to another node");
    }
    session.agents.clear();
    session.assets.clear();
  }

  private takeBack(row: LiveSessionRow): LiveSession {
    const session = liveSession({ ...row, keyType: row.keyType === "visitor" ? "visitor" : "random", visitor: null });
    this.sessions.set(id(session.groupId, session.key, session.keyType), session);
    this.scheduleExpiry(session);
    this.startGrace(session);
    this.options.directory?.owned(session);
    return session;
  }

  /**
   * The process is stopping: let go of every session without ending it (it stays in the store for
   * the next process; the sockets are closed with "restarting" by the caller).
   */
  suspendAll(): void {
    for (const session of this.sessions.values()) {
      if (session.expiryTimer) clearTimeout(session.expiryTimer);
      if (session.graceTimer) clearTimeout(session.graceTimer);
    }
    this.sessions.clear();
    this.byVisitor.clear();
    this.byAgent.clear();
  }

  lookup(groupId: string, key: string, keyType: KeyType = "random"): Lookup {
    const session = this.sessions.get(id(groupId, key, keyType));
    if (session) return { session };
    const expiredAt = this.expired.get(id(groupId, key, keyType));
    if (expiredAt !== undefined && this.now() - expiredAt < TOMBSTONE_MS) return { code: "KEY_EXPIRED" };
    return { code: "KEY_NOT_FOUND" };
  }

  /** A live session by key, random or one-click (the asset endpoint does not know which). */
  find(groupId: string, key: string): LiveSession | null {
    return this.sessions.get(id(groupId, key, "random")) ?? this.sessions.get(id(groupId, key, "visitor")) ?? null;
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
    const known = session.expiresAt === null && session.agentsSeen.has(username);
    session.expiresAt = null;
    session.agentsSeen.add(username);
    if (!known) this.persist(session);
    this.byAgent.set(agent, session);
    this.announceGuests(session);
  }

  leave(agent: Peer): void {
    const session = this.byAgent.get(agent);
    if (!session) return;
    const username = session.agents.get(agent);
    this.byAgent.delete(agent);
    session.agents.delete(agent);
    // Control goes with the agent who held it (unless the same agent is still in from another console).
    if (username && session.control?.agent === username && ![...session.agents.values()].includes(username)) this.setControl(session, username, "released");
    // Their pointer and highlight go with them (unless the same agent is still in from another console).
    if (session.visitor && username && ![...session.agents.values()].includes(username)) {
      session.visitor.sendRaw(JSON.stringify({ t: "pointer", agent: username, target: null }));
      session.visitor.sendRaw(JSON.stringify({ t: "highlight", agent: username, id: null }));
    }
    this.announceGuests(session);
  }

  /** The visitor's socket closed: keep the session for the grace period in case it comes back. */
  visitorGone(visitor: Peer): void {
    const session = this.byVisitor.get(visitor);
    if (!session) return;
    this.byVisitor.delete(visitor);
    session.visitor = null;
    this.toAgents(session, JSON.stringify({ t: "visitorConnection", connected: false }));
    this.startGrace(session);
  }

  /** A visitor proves it owns the session with the resume token it was given at start. */
  async resume(groupId: string, key: string, token: string, visitor: Peer): Promise<LiveSession | null> {
    const session = this.find(groupId, key) ?? (await this.adoptResumed(groupId, key, token));
    if (!session || !safeEqual(session.resumeHash, sha256(token))) return null;
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
    if (!this.sessions.delete(id(session.groupId, session.key, session.keyType))) return;
    this.write(session, (store) => store.deleteLiveSession(session.groupId, session.keyType, session.key));
    this.options.directory?.ended(session);
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
    session.assets.clear();
    const endedAt = this.now();
    const agentsSeen = [...session.agentsSeen];
    this.write(session, (store) => store.auditEnd(session.auditId, endedAt, reason, agentsSeen));
    this.options.lifecycle?.ended(session, reason, endedAt);
  }

  /**
   * Control changed: remember it (asked/granted/suspended) or drop it (the ends), tell every agent
   * and the audit log; released also tells the visitor, whose dialog or bar goes.
   */
  setControl(session: LiveSession, agent: string, state: ControlState): void {
    session.control = state === "asked" || state === "granted" || state === "suspended" ? { agent, state } : null;
    if (state === "released" && session.visitor) session.visitor.sendRaw(JSON.stringify({ t: "controlReleased", agent }));
    this.toAgents(session, JSON.stringify({ t: "controlState", agent, state }));
    const at = this.now();
    this.write(session, (store) => store.auditEvent(session.auditId, at, agent, `control_${state}`));
  }

  toAgents(session: LiveSession, data: string | Buffer): void {
    if (session.agents.size === 0) return;
    const out = new Outgoing(data);
    for (const agent of session.agents.keys()) agent.sendRaw(out);
  }

  /** Several nodes: a visitor resuming here a session another node kept (only with its own token). */
  private async adoptResumed(groupId: string, key: string, token: string): Promise<LiveSession | null> {
    if (!this.options.directory) return null;
    for (const keyType of ["random", "visitor"] as const) {
      const row = await this.options.store.liveSession(groupId, keyType, key);
      if (row && safeEqual(row.resumeHash, sha256(token))) return this.find(groupId, key) ?? this.takeBack(row);
    }
    return null;
  }

  /** Every store write queued so far is done or given up (before the store closes). */
  writesDone(): Promise<void> {
    return this.writes.stop();
  }

  /** A store write for `session`, after the ones before it; the relay does not wait for it. */
  private write(session: LiveSession, write: (store: StoreApi) => Awaitable<unknown>): void {
    this.writes.run(id(session.groupId, session.key, session.keyType), () => write(this.options.store));
  }

  private startGrace(session: LiveSession): void {
    session.graceTimer = setTimeout(() => this.end(session, "visitor_left"), this.options.resumeGraceMs);
    session.graceTimer.unref();
  }

  private scheduleExpiry(session: LiveSession): void {
    if (session.expiresAt === null) return;
    session.expiryTimer = setTimeout(() => this.expire(session), Math.max(0, session.expiresAt - this.now()));
    session.expiryTimer.unref();
  }

  private persist(session: LiveSession): void {
    const row: LiveSessionRow = {
      groupId: session.groupId,
      keyType: session.keyType,
      key: session.key,
      site: session.site,
      resumeHash: session.resumeHash,
      allowedAgent: session.allowedAgent,
      agentsSeen: [...session.agentsSeen],
      auditId: session.auditId,
      expiresAt: session.expiresAt,
    };
    this.write(session, (store) => store.saveLiveSession(row));
  }

  private expire(session: LiveSession): void {
    if (session.agents.size > 0) return;
    this.expired.set(id(session.groupId, session.key, session.keyType), this.now());
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

/** A write the database did not answer is tried again after these delays (≈ 5 min in all). */
const RETRY_DELAYS_MS = [1_000, 2_000, 4_000, 8_000, 15_000, ...Array<number>(9).fill(30_000)];

/**
 * Store writes per session, in order, without making the relay wait: a synchronous store (SQLite)
 * writes at once as before; an asynchronous one (PostgreSQL) one write after another per session
 * (the audit row before its events and its end). While the database does not answer, a write is
 * tried again (the later ones wait behind it); a write that fails otherwise, or for longer, is
 * logged, and the session carries on.
 */
class OrderedWrites {
  private readonly pending = new Map<string, Promise<void>>();
  private readonly stopping = new AbortController();

  run(key: string, write: () => Awaitable<unknown>): void {
    const before = this.pending.get(key);
    if (before) return this.track(key, before.then(() => this.persist(write, Promise.resolve().then(write))));
    let result: unknown;
    try {
      result = write();
    } catch (error) {
      return writeFailed(error);
    }
    if (result instanceof Promise) this.track(key, this.persist(write, result));
  }

  /** No more retries; resolves when every write started is done or given up. */
  async stop(): Promise<void> {
    this.stopping.abort();
    while (this.pending.size > 0) await Promise.all(this.pending.values());
  }

  private async persist(write: () => Awaitable<unknown>, first: Promise<unknown>): Promise<unknown> {
    let attempt = first;
    for (const delay of RETRY_DELAYS_MS) {
      try {
        return await attempt;
      } catch (error) {
        if (!(error instanceof StoreUnavailable) || this.stopping.signal.aborted) throw error;
      }
      await sleep(delay, undefined, { signal: this.stopping.signal, ref: false }).catch(() => {});
      attempt = Promise.resolve().then(write);
    }
    return attempt;
  }

  private track(key: string, write: Promise<unknown>): void {
    const settled: Promise<void> = write.then(() => {}, writeFailed).finally(() => {
      if (this.pending.get(key) === settled) this.pending.delete(key);
    });
    this.pending.set(key, settled);
  }
}

const writeFailed = (error: unknown) => console.error("glimpse: store write failed", (error as Error).message);

/** Random keys and visitor IDs live in separate namespaces: an all-digit visitor ID never meets a random key. */
const id = (groupId: string, key: string, keyType: KeyType) => `${groupId}:${keyType}:${key}`;


/** A session as it starts or is taken back after a restart: no agent on it yet, no page seen. */
function liveSession(
  fields: Pick<LiveSession, "key" | "groupId" | "keyType" | "site" | "resumeHash" | "visitor" | "auditId" | "allowedAgent" | "expiresAt"> & {
    agentsSeen: Iterable<string>;
  },
): LiveSession {
  const { key, groupId, keyType, site, resumeHash, visitor, auditId, allowedAgent, expiresAt } = fields;
  return {
    key,
    groupId,
    keyType,
    site,
    resumeHash,
    visitor,
    agents: new Map(),
    agentsSeen: new Set(fields.agentsSeen),
    page: null,
    control: null,
    paused: null,
    assets: new SessionAssets(),
    auditId,
    allowedAgent,
    expiresAt,
    expiryTimer: null,
    graceTimer: null,
  };
}
