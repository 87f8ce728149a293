/** Server configuration: defaults for the embedded setup, each overridable by an environment variable. */
export interface ServerConfig {
  host: string;
  port: number;
  /** SQLite file; ":memory:" for tests. Not used when `databaseUrl` is set. */
  dbPath: string;
  /** PostgreSQL (`postgres://user:pass@host/db`) for the durable tables instead of the SQLite file; "" = SQLite. */
  databaseUrl: string;
  /** An unjoined session key expires after this long. */
  keyTtlMs: number;
  /** How long a session waits for its visitor to reconnect (service worker restart, network blip). */
  resumeGraceMs: number;
  /** Frames above this are answered MESSAGE_TOO_LARGE and dropped. */
  maxMessageBytes: number;
  /** Application-level ping interval; also what keeps an MV3 service worker awake during a session. */
  pingMs: number;
  /** Agent sign-in lifetime. */
  agentSessionMs: number;
  /** Concurrent WebSocket connections allowed from one IP address (visitor and agent endpoints each). */
  maxConnectionsPerIp: number;
  /** A connection that has not said hello by then is closed. */
  helloTimeoutMs: number;
  /**
   * Server time (ms per second, with a burst of four seconds' worth) one connection's messages may
   * take to handle; a client that uses more is closed with BUDGET_EXCEEDED.
   */
  connectionCpuMsPerS: number;
  /** Open agent sockets have their sign-in or API token checked again this often (and before every join). */
  agentRecheckMs: number;
  /** Session audit rows (metadata only) are deleted after this many days. */
  auditRetentionDays: number;
  /**
   * Origins allowed to open visitor sockets, as patterns (`*` matches anything). Browsers always
   * send Origin; the default admits any installed Glimpse extension. Pin your store IDs in production.
   */
  visitorOrigins: string;
  /** PEM files for HTTPS/WSS; both empty = plain HTTP (e.g. behind a TLS proxy). */
  tlsCert: string;
  tlsKey: string;
  /**
   * Proxies in front of the server (0 = none). With N, the client address is the Nth
   * X-Forwarded-For entry from the right (what the proxy next to us appended), never one a
   * client wrote itself; the scheme likewise from X-Forwarded-Proto.
   */
  trustProxy: number;
  /** Serve /demo/api/token, which signs visitor tokens for the demo group (the demo shop's "backend"). Off unless the quick start turns it on. */
  demoTokens: number;
  /** Who may frame the console (CSP frame-ancestors), e.g. a CRM's origin; default nobody. */
  frameAncestors: string;
  /** Host names (comma-separated, optionally with :port) the server answers to; empty = any. */
  allowedHosts: string;
  /** Lifetime of the demo shop's visitor tokens, in seconds. */
  demoTokenTtlS: number;
  /** Oldest visitor identity token (by its `iat`) the server accepts, in seconds. */
  tokenMaxAgeS: number;
  /** An unanswered share request expires after this long (and an accepted one must start within it). */
  requestTtlMs: number;
  /** A requesting console that closes (a reload) keeps its open request this long. */
  agentGraceMs: number;
  /** Serve Prometheus metrics at /metrics to a scraper that sends this as a bearer token; "" = off. */
  metricsToken: string;
  /** On SIGTERM: how long /readyz says 503 (new clients refused) before the sockets are closed. */
  drainMs: number;
  /** Several nodes: the Redis that holds who owns which session and carries the bus; "" = one node, no Redis. */
  redisUrl: string;
  /** This node's name among several (unique per process); "" = a random one at each start. */
  nodeId: string;
  /** Webhooks (server/webhooks.ts): first retry delay (each next ×4), attempts in all, outbox poll, per-attempt timeout. */
  webhookRetryMs: number;
  webhookAttempts: number;
  webhookPollMs: number;
  webhookTimeoutMs: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: "127.0.0.1",
  port: 8787,
  dbPath: "data/glimpse.db",
  databaseUrl: "",
  keyTtlMs: 15 * 60_000,
  resumeGraceMs: 30_000,
  maxMessageBytes: 4 * 1024 * 1024,
  pingMs: 20_000,
  agentSessionMs: 8 * 60 * 60_000,
  demoTokens: 0,
  frameAncestors: "'none'",
  allowedHosts: "",
  demoTokenTtlS: 5 * 60,
  tokenMaxAgeS: 10 * 60,
  requestTtlMs: 60_000,
  agentGraceMs: 15_000,
  maxConnectionsPerIp: 100,
  helloTimeoutMs: 10_000,
  connectionCpuMsPerS: 250,
  agentRecheckMs: 5_000,
  auditRetentionDays: 30,
  visitorOrigins: "chrome-extension://*,moz-extension://*",
  tlsCert: "",
  tlsKey: "",
  trustProxy: 0,
  metricsToken: "",
  drainMs: 0,
  redisUrl: "",
  nodeId: "",
  webhookRetryMs: 1_000,
  webhookAttempts: 6,
  webhookPollMs: 1_000,
  webhookTimeoutMs: 10_000,
};

const ENV: Record<keyof ServerConfig, string> = {
  host: "GLIMPSE_HOST",
  port: "GLIMPSE_PORT",
  dbPath: "GLIMPSE_DB",
  databaseUrl: "GLIMPSE_DATABASE_URL",
  keyTtlMs: "GLIMPSE_KEY_TTL_MS",
  resumeGraceMs: "GLIMPSE_RESUME_GRACE_MS",
  maxMessageBytes: "GLIMPSE_MAX_MESSAGE_BYTES",
  pingMs: "GLIMPSE_PING_MS",
  agentSessionMs: "GLIMPSE_AGENT_SESSION_MS",
  demoTokens: "GLIMPSE_DEMO_TOKENS",
  frameAncestors: "GLIMPSE_FRAME_ANCESTORS",
  allowedHosts: "GLIMPSE_ALLOWED_HOSTS",
  demoTokenTtlS: "GLIMPSE_DEMO_TOKEN_TTL_S",
  tokenMaxAgeS: "GLIMPSE_TOKEN_MAX_AGE_S",
  requestTtlMs: "GLIMPSE_REQUEST_TTL_MS",
  agentGraceMs: "GLIMPSE_AGENT_GRACE_MS",
  maxConnectionsPerIp: "GLIMPSE_MAX_CONNECTIONS_PER_IP",
  helloTimeoutMs: "GLIMPSE_HELLO_TIMEOUT_MS",
  connectionCpuMsPerS: "GLIMPSE_CONNECTION_CPU_MS_PER_S",
  agentRecheckMs: "GLIMPSE_AGENT_RECHECK_MS",
  auditRetentionDays: "GLIMPSE_AUDIT_RETENTION_DAYS",
  visitorOrigins: "GLIMPSE_VISITOR_ORIGINS",
  tlsCert: "GLIMPSE_TLS_CERT",
  tlsKey: "GLIMPSE_TLS_KEY",
  trustProxy: "GLIMPSE_TRUST_PROXY",
  metricsToken: "GLIMPSE_METRICS_TOKEN",
  drainMs: "GLIMPSE_DRAIN_MS",
  redisUrl: "GLIMPSE_REDIS_URL",
  nodeId: "GLIMPSE_NODE_ID",
  webhookRetryMs: "GLIMPSE_WEBHOOK_RETRY_MS",
  webhookAttempts: "GLIMPSE_WEBHOOK_ATTEMPTS",
  webhookPollMs: "GLIMPSE_WEBHOOK_POLL_MS",
  webhookTimeoutMs: "GLIMPSE_WEBHOOK_TIMEOUT_MS",
};

const STRING_FIELDS = new Set<keyof ServerConfig>(["host", "dbPath", "databaseUrl", "visitorOrigins", "tlsCert", "tlsKey", "frameAncestors", "allowedHosts", "metricsToken", "redisUrl", "nodeId"]);

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  for (const [field, name] of Object.entries(ENV) as [keyof ServerConfig, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    if (STRING_FIELDS.has(field)) {
      (config as unknown as Record<string, string>)[field] = raw;
    } else {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
      (config as unknown as Record<string, number>)[field] = value;
    }
  }
  // The extension sends pieces of up to 256 KB (src/capture/chunks.ts); leave room for the envelope.
  if (config.maxMessageBytes < 512 * 1024) throw new Error("GLIMPSE_MAX_MESSAGE_BYTES must be at least 524288 (512 KB)");
  return config;
}
