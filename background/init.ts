/**
 * Visitor initialisation (Glance's VisitorInitialized): the server is reachable and knows the group.
 * Checked over HTTP — no socket is held open for a page that is merely showing the button.
 */
import { glimpseError } from "~src/errors";
import type { InitStatus } from "~src/messages";
import type { Settings } from "~src/settings";

const OK_TTL_MS = 60_000;
const FAIL_TTL_MS = 5_000;
const TIMEOUT_MS = 5_000;
let cache: { id: string; at: number; status: InitStatus } | null = null;

export async function checkInit(settings: Settings, now = Date.now()): Promise<InitStatus> {
  const id = `${settings.serverUrl}|${settings.groupId}`;
  if (cache && cache.id === id && now - cache.at < (cache.status.ok ? OK_TTL_MS : FAIL_TTL_MS)) return cache.status;
  const status = await fetchInit(settings);
  cache = { id, at: now, status };
  return status;
}

export function forgetInit(): void {
  cache = null;
}

async function fetchInit(settings: Settings): Promise<InitStatus> {
  const url = new URL(`api/groups/${encodeURIComponent(settings.groupId)}`, settings.serverUrl.replace(/\/?$/, "/"));
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), credentials: "omit" });
    if (response.ok) return { ok: true };
    if (response.status === 404) return { ok: false, error: glimpseError("UNKNOWN_GROUP") };
    return { ok: false, error: glimpseError("SERVER_UNREACHABLE", `The Glimpse server answered ${response.status}.`) };
  } catch {
    return { ok: false, error: glimpseError("SERVER_UNREACHABLE") };
  }
}
