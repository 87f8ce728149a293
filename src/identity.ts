/**
 * Visitor identity on the extension side: where a visitor ID comes from and the page bridge's
 * message format. Pure (no browser API); the page bridge's input is untrusted page data.
 */
import * as v from "valibot";
import { VisitorId } from "./protocol";

export const Identity = v.object({
  visitorId: VisitorId,
  /** JWT signed by the site's backend; absent for rule and manual identities. */
  token: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
  name: v.nullable(v.pipe(v.string(), v.maxLength(256))),
  email: v.nullable(v.pipe(v.string(), v.maxLength(256))),
  source: v.picklist(["bridge", "rule", "manual"]),
});
export type Identity = v.InferOutput<typeof Identity>;

/** Site rule (options page) for sites that cannot call the page bridge. */
export const SiteRule = v.object({
  pattern: v.pipe(v.string(), v.minLength(1), v.maxLength(512)),
  from: v.picklist(["selector", "cookie", "localStorage"]),
  /** The CSS selector, cookie name or localStorage key that holds the visitor ID. */
  name: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
  /** Extra masking selectors for this site. */
  mask: v.optional(v.array(v.pipe(v.string(), v.maxLength(512))), []),
});
export type SiteRule = v.InferOutput<typeof SiteRule>;
