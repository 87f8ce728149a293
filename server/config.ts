/** Server configuration: defaults for the embedded setup, each overridable by an environment variable. */
export interface ServerConfig {
  host: string;
  port: number;
  /** SQLite file; ":memory:" for tests. */
  dbPath: string;
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
  /** Serve /demo/api/token, which signs visitor tokens for the demo group (the demo shop's "backend"). */
  demoTokens: number;
}

export const DEFAULT_CONFIG: ServerConfig = {
  host: "127.0.0.1",
  port: 8787,
  dbPath: "data/glimpse.db",
  keyTtlMs: 15 * 60_000,
  resumeGraceMs: 30_000,
  maxMessageBytes: 4 * 1024 * 1024,
  pingMs: 20_000,
  agentSessionMs: 8 * 60 * 60_000,
  demoTokens: 1,
};

const ENV: Record<keyof ServerConfig, string> = {
  host: "GLIMPSE_HOST",
  port: "GLIMPSE_PORT",
  dbPath: "GLIMPSE_DB",
  keyTtlMs: "GLIMPSE_KEY_TTL_MS",
  resumeGraceMs: "GLIMPSE_RESUME_GRACE_MS",
  maxMessageBytes: "GLIMPSE_MAX_MESSAGE_BYTES",
  pingMs: "GLIMPSE_PING_MS",
  agentSessionMs: "GLIMPSE_AGENT_SESSION_MS",
  demoTokens: "GLIMPSE_DEMO_TOKENS",
};

export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const config: ServerConfig = { ...DEFAULT_CONFIG };
  for (const [field, name] of Object.entries(ENV) as [keyof ServerConfig, string][]) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    if (field === "host" || field === "dbPath") {
      config[field] = raw;
    } else {
      const value = Number(raw);
      if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
      config[field] = value;
    }
  }
  return config;
}
