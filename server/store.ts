/**
 * Durable storage: groups, agents, agent sign-ins, the session audit log, and the live sessions a
 * restart must keep (metadata only — page content is relayed, never stored). `StoreApi` is what
 * the server needs of it; `Store` is the embedded SQLite default (synchronous, so its callers
 * that await get the answer on the next microtask), `PgStore` (server/pg-store.ts) PostgreSQL for
 * several nodes on several hosts.
 */
import Database from "better-sqlite3";
import { createHash, randomInt } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DEFAULT_KEY_LENGTH } from "../src/keys";

export interface Group {
  id: string;
  name: string;
  keyLength: number;
  /** HS256 secret the group's sites sign visitor tokens with. */
  secret: string;
  /** Refuse visitors without a valid signed token. */
  requireVerified: boolean;
}

export interface Agent {
  id: number;
  groupId: string;
  username: string;
  passwordHash: string;
  /** From the identity provider's `name` claim (SSO); "" for agents made by the admin CLI. */
  displayName: string;
}

/** A group's OpenID Connect sign-in (server/sso.ts). */
export interface SsoConfig {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** E-mail domains (verified e-mail) allowed in, e.g. ["acme.example"]; empty = any. */
  allowedDomains: string[];
  /** A claim that must hold a value, e.g. "groups=support" (an array claim containing it); "" = none. */
  requiredClaim: string;
  /** Agents of the group sign in only through the identity provider. */
  passwordsOff: boolean;
}

export interface AuditRow {
  id: number;
  groupId: string;
  sessionKey: string;
  keyType: string;
  site: string;
  startedAt: number;
  endedAt: number | null;
  endReason: string | null;
  agents: string;
}

/** The database did not answer (PostgreSQL down or unreachable): clients are told NOT_READY, not INTERNAL. */
export class StoreUnavailable extends Error {}

/** What the server needs of its store; SQLite answers at once, PostgreSQL with a promise. */
export type Awaitable<T> = T | Promise<T>;

export interface StoreApi {
  /** The database answers (throws or rejects when it does not). */
  ping(): Awaitable<boolean>;
  close(): Awaitable<void>;
  createGroup(group: Group): Awaitable<void>;
  setRequireVerified(id: string, required: boolean): Awaitable<void>;
  getGroup(id: string): Awaitable<Group | null>;
  listGroups(): Awaitable<Group[]>;
  createAgent(groupId: string, username: string, passwordHash: string, displayName?: string): Awaitable<number>;
  getAgentByUsername(username: string): Awaitable<Agent | null>;
  countAgents(): Awaitable<number>;
  createAgentSession(agentId: number, token: string, expiresAt: number): Awaitable<void>;
  agentForToken(token: string, now: number): Awaitable<Agent | null>;
  deleteAgentSession(token: string): Awaitable<void>;
  createApiToken(agentId: number, token: string, label: string, now: number): Awaitable<void>;
  agentForApiToken(token: string): Awaitable<Agent | null>;
  deleteAgent(agentId: number): Awaitable<boolean>;
  revokeApiTokens(agentId: number): Awaitable<number>;
  purgeAudit(before: number, now: number): Awaitable<number>;
  /** `row.id` is made by the caller (`newAuditId`), so starting a session waits on no database. */
  auditStart(row: Omit<AuditRow, "endedAt" | "endReason" | "agents">): Awaitable<void>;
  auditEnd(id: number, endedAt: number, reason: string, agents: string[]): Awaitable<void>;
  auditEvent(auditId: number, at: number, agent: string, event: string): Awaitable<void>;
  auditEvents(auditId: number): Awaitable<AuditEvent[]>;
  auditRows(groupId: string): Awaitable<AuditRow[]>;
  saveLiveSession(row: LiveSessionRow): Awaitable<void>;
  deleteLiveSession(groupId: string, keyType: string, key: string): Awaitable<void>;
  liveSessions(): Awaitable<LiveSessionRow[]>;
  liveSession(groupId: string, keyType: string, key: string): Awaitable<LiveSessionRow | null>;
  /** The group's webhook endpoint and signing secret (`url` "" turns deliveries off). */
  setWebhook(groupId: string, url: string, secret: string): Awaitable<void>;
  webhookOf(groupId: string): Awaitable<{ url: string; secret: string } | null>;
  /** The webhook outbox (server/webhooks.ts): deliveries survive restarts and are shared by nodes. */
  enqueueWebhook(row: Pick<WebhookRow, "id" | "groupId" | "body" | "createdAt">): Awaitable<void>;
  dueWebhooks(now: number, limit: number): Awaitable<WebhookRow[]>;
  /** Take a due delivery until `leaseUntil`, if nobody (another node) took it since it was read as due. */
  claimWebhook(id: string, dueAt: number, leaseUntil: number): Awaitable<boolean>;
  webhookDelivered(id: string): Awaitable<void>;
  /** A failed attempt: try again at `nextAt`, or never (`gaveUp`: kept for inspection until the retention purge). */
  webhookFailed(id: string, attempts: number, nextAt: number, error: string, gaveUp: boolean): Awaitable<void>;
  webhookRows(groupId: string): Awaitable<WebhookRow[]>;
  /** The group's SSO settings; null turns SSO off. */
  setSso(groupId: string, sso: SsoConfig | null): Awaitable<void>;
  ssoOf(groupId: string): Awaitable<SsoConfig | null>;
  /** Origins (`https://crm.example`) whose pages may use the CRM widget for the group (server/widget.ts). */
  setEmbedOrigins(groupId: string, origins: string[]): Awaitable<void>;
  embedOriginsOf(groupId: string): Awaitable<string[]>;
  /** A widget token: an agent's sign-in usable only from pages of `origin`, until `expiresAt`. Stored hashed. */
  createWidgetToken(agentId: number, token: string, origin: string, expiresAt: number): Awaitable<void>;
  /** The agent, if the token is unexpired, was made for `origin`, and the group still allows that origin. */
  agentForWidgetToken(token: string, origin: string, now: number): Awaitable<Agent | null>;
  /** Company sign-in: the agent a provider's subject (`<issuer>|<sub>`) is linked to, and the link. */
  agentForSsoSubject(subject: string): Awaitable<Agent | null>;
  ssoSubjectOf(agentId: number): Awaitable<string | null>;
  setSsoSubject(agentId: number, subject: string): Awaitable<void>;
}

export interface WebhookRow {
  id: string;
  groupId: string;
  /** The JSON sent, exactly as signed. */
  body: string;
  createdAt: number;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  gaveUp: boolean;
}

export const WEBHOOK_COLUMNS = `id, group_id AS "groupId", body, created_at AS "createdAt", attempts, next_at AS "nextAt", last_error AS "lastError", gave_up AS "gaveUp"`;
export const toWebhookRow = (row: Omit<WebhookRow, "gaveUp"> & { gaveUp: number }): WebhookRow => ({ ...row, gaveUp: row.gaveUp === 1 });
/** Shared by both stores' SQL (`?` placeholders). */
export const WEBHOOK_SQL = {
  setWebhook: "UPDATE groups SET webhook_url = ?, webhook_secret = ? WHERE id = ?",
  webhookOf: `SELECT webhook_url AS url, webhook_secret AS secret FROM groups WHERE id = ? AND webhook_url <> ''`,
  enqueue: "INSERT INTO webhook_outbox (id, group_id, body, created_at, next_at) VALUES (?, ?, ?, ?, ?)",
  due: `SELECT ${WEBHOOK_COLUMNS} FROM webhook_outbox WHERE gave_up = 0 AND next_at <= ? ORDER BY next_at LIMIT ?`,
  claim: "UPDATE webhook_outbox SET next_at = ? WHERE id = ? AND next_at = ? AND gave_up = 0",
  delivered: "DELETE FROM webhook_outbox WHERE id = ?",
  failed: "UPDATE webhook_outbox SET attempts = ?, next_at = ?, last_error = ?, gave_up = ? WHERE id = ?",
  rows: `SELECT ${WEBHOOK_COLUMNS} FROM webhook_outbox WHERE group_id = ? ORDER BY created_at, id`,
  purge: "DELETE FROM webhook_outbox WHERE created_at < ?",
};

export interface AuditEvent {
  at: number;
  agent: string;
  event: string;
}

/** An audit row's id: random, made by the node that starts the session (no round trip, unique across nodes). */
export const newAuditId = (): number => randomInt(1, 2 ** 47);

const MIGRATIONS = [
  `CREATE TABLE groups (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     key_length INTEGER NOT NULL DEFAULT ${DEFAULT_KEY_LENGTH}
   );
   CREATE TABLE agents (
     id INTEGER PRIMARY KEY,
     group_id TEXT NOT NULL REFERENCES groups(id),
     username TEXT NOT NULL UNIQUE,
     password_hash TEXT NOT NULL
   );
   CREATE TABLE agent_sessions (
     token_hash TEXT PRIMARY KEY,
     agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     expires_at INTEGER NOT NULL
   );
   CREATE TABLE session_audit (
     id INTEGER PRIMARY KEY,
     group_id TEXT NOT NULL,
     session_key TEXT NOT NULL,
     key_type TEXT NOT NULL,
     site TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     end_reason TEXT,
     agents TEXT NOT NULL DEFAULT ''
   );`,
  `ALTER TABLE groups ADD COLUMN secret TEXT NOT NULL DEFAULT '';
   ALTER TABLE groups ADD COLUMN require_verified INTEGER NOT NULL DEFAULT 0;`,
  `CREATE TABLE api_tokens (
     token_hash TEXT PRIMARY KEY,
     agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     label TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX session_audit_started ON session_audit(started_at);`,
  // What a restarted server needs to take a live session back (sessions.ts): no page content.
  `CREATE TABLE live_sessions (
     group_id TEXT NOT NULL,
     key_type TEXT NOT NULL,
     session_key TEXT NOT NULL,
     site TEXT NOT NULL,
     resume_hash TEXT NOT NULL,
     allowed_agent TEXT,
     agents_seen TEXT NOT NULL DEFAULT '[]',
     audit_id INTEGER NOT NULL,
     expires_at INTEGER,
     PRIMARY KEY (group_id, key_type, session_key)
   );`,
  // Remote control in a session: who asked, was granted, suspended, declined, revoked or released it, and when.
  `CREATE TABLE session_events (
     audit_id INTEGER NOT NULL REFERENCES session_audit(id) ON DELETE CASCADE,
     at INTEGER NOT NULL,
     agent TEXT NOT NULL,
     event TEXT NOT NULL
   );
   CREATE INDEX session_events_audit ON session_events(audit_id);`,
  // Webhooks (server/webhooks.ts): each group's endpoint, and the outbox of deliveries.
  `ALTER TABLE groups ADD COLUMN webhook_url TEXT NOT NULL DEFAULT '';
   ALTER TABLE groups ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
   CREATE TABLE webhook_outbox (
     id TEXT PRIMARY KEY,
     group_id TEXT NOT NULL,
     body TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     last_error TEXT,
     gave_up INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX webhook_outbox_due ON webhook_outbox(gave_up, next_at);`,
  // SSO (server/sso.ts): a group's identity provider, and agents' names from it.
  `CREATE TABLE group_sso (
     group_id TEXT PRIMARY KEY REFERENCES groups(id),
     issuer TEXT NOT NULL,
     client_id TEXT NOT NULL,
     client_secret TEXT NOT NULL,
     allowed_domains TEXT NOT NULL DEFAULT '',
     required_claim TEXT NOT NULL DEFAULT '',
     passwords_off INTEGER NOT NULL DEFAULT 0
   );
   ALTER TABLE agents ADD COLUMN display_name TEXT NOT NULL DEFAULT '';`,
  // The CRM widget (server/widget.ts): origins allowed per group, and origin-bound agent tokens.
  `ALTER TABLE groups ADD COLUMN embed_origins TEXT NOT NULL DEFAULT '';
   CREATE TABLE widget_tokens (
     token_hash TEXT PRIMARY KEY,
     agent_id INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
     origin TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );`,
  // Company sign-in links an agent to the provider's subject, so a changed e-mail address is the same agent.
  `ALTER TABLE agents ADD COLUMN sso_subject TEXT;
   CREATE UNIQUE INDEX agents_sso_subject ON agents(sso_subject);`,
];

// Aliases are quoted: PostgreSQL folds unquoted ones to lower case (server/pg-store.ts uses these too).
export const GROUP_COLUMNS = `id, name, key_length AS "keyLength", secret, require_verified AS "requireVerified"`;
export const AGENT_COLUMNS = `a.id, a.group_id AS "groupId", a.username, a.password_hash AS "passwordHash", a.display_name AS "displayName"`;
type SsoStored = Omit<SsoConfig, "allowedDomains" | "passwordsOff"> & { allowedDomains: string; passwordsOff: number };
export const toSso = (row: SsoStored | null | undefined): SsoConfig | null =>
  row ? { ...row, allowedDomains: row.allowedDomains.split(",").filter(Boolean), passwordsOff: row.passwordsOff === 1 } : null;
export const ssoParams = (groupId: string, sso: SsoConfig) => [groupId, sso.issuer, sso.clientId, sso.clientSecret, sso.allowedDomains.join(","), sso.requiredClaim, sso.passwordsOff ? 1 : 0];
export const SSO_SQL = {
  agentForSubject: `SELECT ${AGENT_COLUMNS} FROM agents a WHERE a.sso_subject = ?`,
  subjectOf: `SELECT sso_subject AS subject FROM agents WHERE id = ?`,
  setSubject: "UPDATE agents SET sso_subject = ? WHERE id = ?",
  // Both dialects: INSERT … ON CONFLICT … DO UPDATE (SQLite ≥ 3.24).
  set: `INSERT INTO group_sso (group_id, issuer, client_id, client_secret, allowed_domains, required_claim, passwords_off) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (group_id) DO UPDATE SET issuer = excluded.issuer, client_id = excluded.client_id, client_secret = excluded.client_secret,
          allowed_domains = excluded.allowed_domains, required_claim = excluded.required_claim, passwords_off = excluded.passwords_off`,
  off: "DELETE FROM group_sso WHERE group_id = ?",
  of: `SELECT issuer, client_id AS "clientId", client_secret AS "clientSecret", allowed_domains AS "allowedDomains", required_claim AS "requiredClaim",
         passwords_off AS "passwordsOff" FROM group_sso WHERE group_id = ?`,
};

export const WIDGET_SQL = {
  setOrigins: "UPDATE groups SET embed_origins = ? WHERE id = ?",
  origins: "SELECT embed_origins AS origins FROM groups WHERE id = ?",
  create: "INSERT INTO widget_tokens (token_hash, agent_id, origin, expires_at) VALUES (?, ?, ?, ?)",
  // The group's list is checked as it is now: taking an origin off it stops its widgets at the next check.
  agent: `SELECT ${AGENT_COLUMNS}, g.embed_origins AS "embedOrigins" FROM widget_tokens w JOIN agents a ON a.id = w.agent_id JOIN groups g ON g.id = a.group_id
          WHERE w.token_hash = ? AND w.origin = ? AND w.expires_at > ?`,
  purge: "DELETE FROM widget_tokens WHERE expires_at < ?",
};
export const originsOf = (row: { origins: string } | null | undefined) => (row?.origins ?? "").split(",").filter(Boolean);
/** The agent of a widget-token row, if the group still allows the origin. */
export const widgetAgent = (row: (Agent & { embedOrigins: string }) | null | undefined, origin: string): Agent | null => {
  if (!row || !originsOf({ origins: row.embedOrigins }).includes(origin)) return null;
  const { embedOrigins: _origins, ...agent } = row;
  return agent;
};

export const AUDIT_COLUMNS = `id, group_id AS "groupId", session_key AS "sessionKey", key_type AS "keyType", site, started_at AS "startedAt",
  ended_at AS "endedAt", end_reason AS "endReason", agents`;
export const toGroup = (row: (Omit<Group, "requireVerified"> & { requireVerified: number }) | undefined): Group | null =>
  row ? { ...row, requireVerified: row.requireVerified === 1 } : null;

/** How secrets (sign-in and API tokens, resume tokens) are stored: never the secret itself. */
export const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

/** A live session as kept across a restart (sessions.ts `LiveSession`, less what lives in memory). */
export interface LiveSessionRow {
  groupId: string;
  keyType: string;
  key: string;
  site: string;
  resumeHash: string;
  allowedAgent: string | null;
  agentsSeen: string[];
  auditId: number;
  /** When an unjoined key expires; null once an agent has joined. */
  expiresAt: number | null;
}

export const LIVE_SESSION_SELECT = `SELECT group_id AS "groupId", key_type AS "keyType", session_key AS key, site, resume_hash AS "resumeHash",
  allowed_agent AS "allowedAgent", agents_seen AS "agentsSeen", audit_id AS "auditId", expires_at AS "expiresAt"`;
export type LiveSessionStored = Omit<LiveSessionRow, "agentsSeen"> & { agentsSeen: string };
export const toLiveSession = (row: LiveSessionStored): LiveSessionRow => ({ ...row, agentsSeen: JSON.parse(row.agentsSeen) as string[] });

/** The newest sessions first (ids are random: the start time orders them). */
export const AUDIT_ROWS = `SELECT ${AUDIT_COLUMNS} FROM session_audit WHERE group_id = ? ORDER BY started_at DESC, id DESC LIMIT 200`;

/** The store `config` names: PostgreSQL when a database URL is set, else the SQLite file. */
export async function openStore(config: { dbPath: string; databaseUrl: string }): Promise<StoreApi> {
  if (!config.databaseUrl) return new Store(config.dbPath);
  const { PgStore } = await import("./pg-store");
  return PgStore.open(config.databaseUrl);
}

export class Store implements StoreApi {
  readonly db: Database.Database;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("foreign_keys = ON");
    this.migrate();
  }

  private migrate(): void {
    const version = this.db.pragma("user_version", { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  close(): void {
    this.db.close();
  }

  /** The database answers (throws when it does not: closed, file gone or unreadable). */
  ping(): boolean {
    return this.db.prepare("SELECT count(*) AS n FROM groups").get() !== undefined;
  }

  createGroup(group: Group): void {
    this.db
      .prepare("INSERT INTO groups (id, name, key_length, secret, require_verified) VALUES (?, ?, ?, ?, ?)")
      .run(group.id, group.name, group.keyLength, group.secret, group.requireVerified ? 1 : 0);
  }

  setRequireVerified(id: string, required: boolean): void {
    this.db.prepare("UPDATE groups SET require_verified = ? WHERE id = ?").run(required ? 1 : 0, id);
  }

  getGroup(id: string): Group | null {
    return toGroup(this.db.prepare(`SELECT ${GROUP_COLUMNS} FROM groups WHERE id = ?`).get(id) as never);
  }

  listGroups(): Group[] {
    return (this.db.prepare(`SELECT ${GROUP_COLUMNS} FROM groups ORDER BY id`).all() as never[]).map((row) => toGroup(row)!);
  }

  createAgent(groupId: string, username: string, passwordHash: string, displayName = ""): number {
    const info = this.db.prepare("INSERT INTO agents (group_id, username, password_hash, display_name) VALUES (?, ?, ?, ?)").run(groupId, username, passwordHash, displayName);
    return Number(info.lastInsertRowid);
  }

  getAgentByUsername(username: string): Agent | null {
    const row = this.db
      .prepare(`SELECT ${AGENT_COLUMNS} FROM agents a WHERE username = ?`)
      .get(username) as Agent | undefined;
    return row ?? null;
  }

  countAgents(): number {
    return (this.db.prepare("SELECT COUNT(*) AS n FROM agents").get() as { n: number }).n;
  }

  /** Sign-in tokens are stored hashed: a copy of the database does not let anyone in. */
  createAgentSession(agentId: number, token: string, expiresAt: number): void {
    this.db.prepare("INSERT INTO agent_sessions (token_hash, agent_id, expires_at) VALUES (?, ?, ?)").run(sha256(token), agentId, expiresAt);
  }

  agentForToken(token: string, now: number): Agent | null {
    const row = this.db
      .prepare(
        `SELECT ${AGENT_COLUMNS} FROM agent_sessions s JOIN agents a ON a.id = s.agent_id
         WHERE s.token_hash = ? AND s.expires_at > ?`,
      )
      .get(sha256(token), now) as Agent | undefined;
    return row ?? null;
  }

  deleteAgentSession(token: string): void {
    this.db.prepare("DELETE FROM agent_sessions WHERE token_hash = ?").run(sha256(token));
  }

  /** API tokens for CRM integrations: shown once at creation, stored hashed. */
  createApiToken(agentId: number, token: string, label: string, now: number): void {
    this.db.prepare("INSERT INTO api_tokens (token_hash, agent_id, label, created_at) VALUES (?, ?, ?, ?)").run(sha256(token), agentId, label, now);
  }

  agentForApiToken(token: string): Agent | null {
    const row = this.db
      .prepare(
        `SELECT ${AGENT_COLUMNS} FROM api_tokens t JOIN agents a ON a.id = t.agent_id WHERE t.token_hash = ?`,
      )
      .get(sha256(token)) as Agent | undefined;
    return row ?? null;
  }

  /** Removes the agent with its sign-ins and API tokens (cascade); their open sockets close at the next check. */
  deleteAgent(agentId: number): boolean {
    return this.db.prepare("DELETE FROM agents WHERE id = ?").run(agentId).changes > 0;
  }

  revokeApiTokens(agentId: number): number {
    return this.db.prepare("DELETE FROM api_tokens WHERE agent_id = ?").run(agentId).changes;
  }

  /** Retention: session metadata older than the cutoff goes; page content was never stored. */
  purgeAudit(before: number, now: number): number {
    this.db.prepare("DELETE FROM agent_sessions WHERE expires_at < ?").run(now);
    this.db.prepare(WEBHOOK_SQL.purge).run(before);
    this.db.prepare(WIDGET_SQL.purge).run(now);
    return this.db.prepare("DELETE FROM session_audit WHERE started_at < ?").run(before).changes;
  }

  auditStart(row: Omit<AuditRow, "endedAt" | "endReason" | "agents">): void {
    this.db
      .prepare("INSERT INTO session_audit (id, group_id, session_key, key_type, site, started_at) VALUES (?, ?, ?, ?, ?, ?)")
      .run(row.id, row.groupId, row.sessionKey, row.keyType, row.site, row.startedAt);
  }

  auditEnd(id: number, endedAt: number, reason: string, agents: string[]): void {
    this.db.prepare("UPDATE session_audit SET ended_at = ?, end_reason = ?, agents = ? WHERE id = ?").run(endedAt, reason, agents.join(","), id);
  }

  auditEvent(auditId: number, at: number, agent: string, event: string): void {
    this.db.prepare("INSERT INTO session_events (audit_id, at, agent, event) VALUES (?, ?, ?, ?)").run(auditId, at, agent, event);
  }

  auditEvents(auditId: number): AuditEvent[] {
    return this.db.prepare("SELECT at, agent, event FROM session_events WHERE audit_id = ? ORDER BY rowid").all(auditId) as AuditEvent[];
  }

  saveLiveSession(row: LiveSessionRow): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO live_sessions (group_id, key_type, session_key, site, resume_hash, allowed_agent, agents_seen, audit_id, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(row.groupId, row.keyType, row.key, row.site, row.resumeHash, row.allowedAgent, JSON.stringify(row.agentsSeen), row.auditId, row.expiresAt);
  }

  deleteLiveSession(groupId: string, keyType: string, key: string): void {
    this.db.prepare("DELETE FROM live_sessions WHERE group_id = ? AND key_type = ? AND session_key = ?").run(groupId, keyType, key);
  }

  liveSessions(): LiveSessionRow[] {
    return (this.db.prepare(`${LIVE_SESSION_SELECT} FROM live_sessions`).all() as LiveSessionStored[]).map(toLiveSession);
  }

  /** One kept live session (several nodes: another node's, taken over here). */
  liveSession(groupId: string, keyType: string, key: string): LiveSessionRow | null {
    const row = this.db.prepare(`${LIVE_SESSION_SELECT} FROM live_sessions WHERE group_id = ? AND key_type = ? AND session_key = ?`).get(groupId, keyType, key) as
      | LiveSessionStored
      | undefined;
    return row ? toLiveSession(row) : null;
  }

  setWebhook(groupId: string, url: string, secret: string): void {
    this.db.prepare(WEBHOOK_SQL.setWebhook).run(url, secret, groupId);
  }

  webhookOf(groupId: string): { url: string; secret: string } | null {
    return (this.db.prepare(WEBHOOK_SQL.webhookOf).get(groupId) as { url: string; secret: string } | undefined) ?? null;
  }

  enqueueWebhook(row: Pick<WebhookRow, "id" | "groupId" | "body" | "createdAt">): void {
    this.db.prepare(WEBHOOK_SQL.enqueue).run(row.id, row.groupId, row.body, row.createdAt, row.createdAt);
  }

  dueWebhooks(now: number, limit: number): WebhookRow[] {
    return (this.db.prepare(WEBHOOK_SQL.due).all(now, limit) as never[]).map(toWebhookRow);
  }

  claimWebhook(id: string, dueAt: number, leaseUntil: number): boolean {
    return this.db.prepare(WEBHOOK_SQL.claim).run(leaseUntil, id, dueAt).changes === 1;
  }

  webhookDelivered(id: string): void {
    this.db.prepare(WEBHOOK_SQL.delivered).run(id);
  }

  webhookFailed(id: string, attempts: number, nextAt: number, error: string, gaveUp: boolean): void {
    this.db.prepare(WEBHOOK_SQL.failed).run(attempts, nextAt, error, gaveUp ? 1 : 0, id);
  }

  webhookRows(groupId: string): WebhookRow[] {
    return (this.db.prepare(WEBHOOK_SQL.rows).all(groupId) as never[]).map(toWebhookRow);
  }

  setSso(groupId: string, sso: SsoConfig | null): void {
    if (sso) this.db.prepare(SSO_SQL.set).run(...ssoParams(groupId, sso));
    else this.db.prepare(SSO_SQL.off).run(groupId);
  }

  ssoOf(groupId: string): SsoConfig | null {
    return toSso(this.db.prepare(SSO_SQL.of).get(groupId) as SsoStored | undefined);
  }

  setEmbedOrigins(groupId: string, origins: string[]): void {
    this.db.prepare(WIDGET_SQL.setOrigins).run(origins.join(","), groupId);
  }

  embedOriginsOf(groupId: string): string[] {
    return originsOf(this.db.prepare(WIDGET_SQL.origins).get(groupId) as { origins: string } | undefined);
  }

  createWidgetToken(agentId: number, token: string, origin: string, expiresAt: number): void {
    this.db.prepare(WIDGET_SQL.create).run(sha256(token), agentId, origin, expiresAt);
  }

  agentForWidgetToken(token: string, origin: string, now: number): Agent | null {
    return widgetAgent(this.db.prepare(WIDGET_SQL.agent).get(sha256(token), origin, now) as never, origin);
  }

  agentForSsoSubject(subject: string): Agent | null {
    return (this.db.prepare(SSO_SQL.agentForSubject).get(subject) as Agent | undefined) ?? null;
  }

  ssoSubjectOf(agentId: number): string | null {
    return (this.db.prepare(SSO_SQL.subjectOf).get(agentId) as { subject: string | null } | undefined)?.subject ?? null;
  }

  setSsoSubject(agentId: number, subject: string): void {
    this.db.prepare(SSO_SQL.setSubject).run(subject, agentId);
  }

  auditRows(groupId: string): AuditRow[] {
    return this.db.prepare(AUDIT_ROWS).all(groupId) as AuditRow[];
  }
}
