/** Reading a visitor ID the way a site rule says (pure helpers; no validator, for the page script). */
import { VISITOR_ID_PATTERN } from "./bridge";

/** Read a value from `document.cookie` text. */
export function readCookie(cookieText: string, name: string): string | null {
  for (const part of cookieText.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim()) || null;
      } catch {
        return part.slice(eq + 1).trim() || null;
      }
    }
  }
  return null;
}

/** A value read by a site rule becomes a visitor ID only if it is one (trimmed, allowed characters). */
export function asVisitorId(raw: string | null | undefined): string | null {
  const value = raw?.trim();
  if (!value) return null;
  return VISITOR_ID_PATTERN.test(value) ? value : null;
}
