/**
 * Every persisted extension setting, declared once: storage area, key, type and default.
 * Only the background reads and writes storage; other contexts ask it by message.
 */
import * as v from "valibot";
import { SiteRule } from "./identity";
import { GroupId } from "./protocol";

export const DEFAULT_SERVER_URL = "http://127.0.0.1:8787";
export const DEFAULT_GROUP_ID = "demo";
export const DEFAULT_SITES = ["http://127.0.0.1:8787/demo/*", "http://localhost:8787/demo/*"];

export const Settings = v.object({
  serverUrl: v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//, "The server URL must start with http:// or https://")),
  groupId: GroupId,
  /** Sites where the Share screen button shows, as match patterns (`*` matches anything). */
  sites: v.array(v.pipe(v.string(), v.minLength(1), v.maxLength(512))),
  /** Visitor-ID rules for sites that cannot call the page bridge. */
  rules: v.optional(v.array(SiteRule), []),
});
export type Settings = v.InferOutput<typeof Settings>;

export const DEFAULT_SETTINGS: Settings = {
  serverUrl: DEFAULT_SERVER_URL,
  groupId: DEFAULT_GROUP_ID,
  sites: DEFAULT_SITES,
  rules: [],
};

export const STORAGE = {
  /** storage.local: the support team's configuration (options page). */
  settings: { area: "local", key: "settings", schema: Settings, default: DEFAULT_SETTINGS },
  /** storage.local: origins the visitor switched the button on for from the popup. */
  enabledOrigins: { area: "local", key: "enabledOrigins", schema: v.array(v.string()), default: [] as string[] },
  /** storage.local: linked visitor identities per site origin (page bridge, site rule or popup). */
  identities: { area: "local", key: "identities" },
  /** storage.local: origins whose site drives its own UI (initVisitor with ui: "none"). */
  customUiOrigins: { area: "local", key: "customUiOrigins", schema: v.array(v.string()), default: [] as string[] },
  /** storage.session: the visitor state machine's state (cleared when the browser closes). */
  visitorState: { area: "session", key: "visitorState" },
  /** storage.session: the share request shown in a tab, so its answer survives a worker restart. */
  shareRequest: { area: "session", key: "shareRequest" },
} as const;

/** Match a URL against a pattern such as `https://shop.example/*` or `*://*.example.com/*`. */
export function matchesPattern(pattern: string, url: string): boolean {
  if (pattern === "<all_urls>") return /^https?:/.test(url);
  const regex = new RegExp("^" + pattern.split("*").map(escapeRegExp).join(".*") + "$");
  return regex.test(url);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

export function ruleFor(settings: Settings, url: string): SiteRule | null {
  return settings.rules.find((rule) => matchesPattern(rule.pattern, url)) ?? null;
}

export function siteConfigured(settings: Settings, url: string): boolean {
  return settings.sites.some((pattern) => matchesPattern(pattern, url));
}

/** The origin of an http(s) URL, or null for pages Glimpse never runs on (about:, chrome:, file:). */
export function httpOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.origin : null;
  } catch {
    return null;
  }
}

export function visitorSocketUrl(serverUrl: string, role: "session" | "presence" = "session"): string {
  const url = new URL(serverUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = url.pathname.replace(/\/$/, "") + "/ws/visitor";
  // The presence connection asks the server not to compress (server/app.ts says why).
  if (role === "presence") url.search = "?role=presence";
  return url.toString();
}

/** Keys an administrator can set by enterprise policy (storage.managed); the policy wins. */
export const MANAGED_KEYS = ["serverUrl", "groupId", "sites", "rules"] as const;
export type ManagedKey = (typeof MANAGED_KEYS)[number];

/**
 * Overlay the policy on the user's settings. Each managed value is validated on its own: a bad
 * one is ignored (and reported), the rest of the policy still applies.
 */
export function applyPolicy(local: Settings, policy: unknown): { settings: Settings; managed: ManagedKey[]; invalid: ManagedKey[] } {
  const settings = { ...local };
  const managed: ManagedKey[] = [];
  const invalid: ManagedKey[] = [];
  if (typeof policy !== "object" || policy === null) return { settings, managed, invalid };
  const record = policy as Record<string, unknown>;
  for (const key of MANAGED_KEYS) {
    if (record[key] === undefined) continue;
    const parsed = v.safeParse(Settings.entries[key], record[key]);
    if (!parsed.success) {
      invalid.push(key);
      continue;
    }
    (settings as Record<ManagedKey, unknown>)[key] = parsed.output;
    managed.push(key);
  }
  return { settings, managed, invalid };
}
