/** The console's HTTP calls: every failure becomes a GlimpseError with a message for the agent. */
import { glimpseError, isErrorCode, type GlimpseError } from "~src/errors";

export interface AgentInfo {
  username: string;
  groupId: string;
  /** From the company sign-in's identity provider; "" otherwise. */
  displayName?: string;
}

async function call<T>(path: string, init?: RequestInit): Promise<{ ok: true; value: T } | { ok: false; error: GlimpseError }> {
  let response: Response;
  try {
    response = await fetch(path, { credentials: "same-origin", ...init });
  } catch {
    return { ok: false, error: glimpseError("SERVER_UNREACHABLE") };
  }
  const body = (await response.json().catch(() => null)) as { code?: unknown; message?: unknown } | null;
  if (response.ok) return { ok: true, value: body as T };
  const code = isErrorCode(body?.code) ? body.code : "INTERNAL";
  return { ok: false, error: glimpseError(code, typeof body?.message === "string" ? body.message : undefined) };
}

export const me = () => call<AgentInfo>("/api/me");
export const signIn = (username: string, password: string) =>
  call<AgentInfo>("/api/login", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
export const signOut = () => call<{ ok: true }>("/api/logout", { method: "POST" });
/** A token for the CRM widget on a page of `origin` (server/widget.ts). */
export const widgetToken = (origin: string) =>
  call<{ token: string; expiresAt: number }>("/api/widget-tokens", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ origin }) });
