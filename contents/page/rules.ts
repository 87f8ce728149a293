/** Site rules: read the visitor ID from a selector, cookie or localStorage key; login = it appears. */
import type { SiteRule } from "~src/identity";
import { asVisitorId, readCookie } from "~src/site-rules";

const POLL_MS = 2_000;

function read(rule: SiteRule): string | null {
  try {
    if (rule.from === "cookie") return asVisitorId(readCookie(document.cookie, rule.name));
    if (rule.from === "localStorage") return asVisitorId(localStorage.getItem(rule.name));
    const element = document.querySelector(rule.name);
    return asVisitorId(element instanceof HTMLInputElement ? element.value : element?.textContent);
  } catch {
    return null; // a broken selector or blocked storage must not break the page script
  }
}

/** Calls `changed` with the visitor ID now and whenever it appears, changes or disappears. */
export function watchRule(rule: SiteRule, changed: (visitorId: string | null) => void): () => void {
  let last = read(rule);
  changed(last);
  const timer = setInterval(() => {
    const next = read(rule);
    if (next !== last) changed((last = next));
  }, POLL_MS);
  return () => clearInterval(timer);
}
