/**
 * The page bridge's commands: what a site posts with window.postMessage({ glimpse: 1, type, ... }).
 * Parsed by hand rather than with the schema library: this runs in the script every page loads,
 * whose size is budgeted (README, Performance). Page data is untrusted; bad input gets a reason.
 */
export const VISITOR_ID_PATTERN = /^[A-Za-z0-9_@.+:-]{1,128}$/;

export type BridgeCommand =
  | { type: "initVisitor"; visitorId: string; token: string | null; name: string | null; email: string | null; ui: "default" | "none" }
  | { type: "logout" }
  | { type: "getState" };

export type BridgeParse = { ok: true; command: BridgeCommand } | { ok: false; message: string };

const optionalString = (value: unknown, field: string, max: number): string | null | Error => {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.length > max) return new Error(`${field} must be a string of at most ${max} characters`);
  return value;
};

export function parseBridgeCommand(data: Record<string, unknown>): BridgeParse {
  switch (data.type) {
    case "logout":
      return { ok: true, command: { type: "logout" } };
    case "getState":
      return { ok: true, command: { type: "getState" } };
    case "initVisitor": {
      if (typeof data.visitorId !== "string" || !VISITOR_ID_PATTERN.test(data.visitorId)) {
        return { ok: false, message: "visitorId: 1-128 letters, digits or _@.+:- are required" };
      }
      const token = optionalString(data.token, "token", 4096);
      const name = optionalString(data.name, "name", 256);
      const email = optionalString(data.email, "email", 256);
      for (const value of [token, name, email]) if (value instanceof Error) return { ok: false, message: value.message };
      if (data.ui !== undefined && data.ui !== "default" && data.ui !== "none") return { ok: false, message: 'ui: "default" or "none"' };
      return {
        ok: true,
        command: { type: "initVisitor", visitorId: data.visitorId, token: token as string | null, name: name as string | null, email: email as string | null, ui: (data.ui as "none" | undefined) ?? "default" },
      };
    }
    default:
      return { ok: false, message: 'type: one of "initVisitor", "logout", "getState"' };
  }
}

/** Events posted back to the page (Glance's event names). Never carries a secret. */
export type BridgeEvent =
  | { glimpse: 1; event: "VisitorInitialized"; visitorId: string | null }
  | { glimpse: 1; event: "ConnectedToSession"; sessionKey: string | null; oneClick: boolean }
  | { glimpse: 1; event: "GuestCountChange"; count: number }
  /** Who is viewing now (Glance's `agents`), in the order they joined. */
  | { glimpse: 1; event: "Agents"; agents: string[] }
  /** The visitor paused sharing (true) or resumed it (false). */
  | { glimpse: 1; event: "SharingPaused"; paused: boolean }
  | { glimpse: 1; event: "SessionEnded"; reason: string }
  | { glimpse: 1; event: "PresenceConnected" | "PresenceDisconnected" | "PresenceBlur" | "PresenceShowTerms" }
  | { glimpse: 1; event: "InvalidParameter"; message: string };
