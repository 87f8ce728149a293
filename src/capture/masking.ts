/**
 * What never leaves the page. Masking runs inside the recorder, before serialisation, so a masked
 * value is replaced before it is ever part of an event.
 */
export const MASK_ATTRIBUTE = "data-glimpse-mask";
/** The extension's own UI carries this attribute; the recorder blocks it (never serialised). */
export const UI_ATTRIBUTE = "data-glimpse-ui";

/** What a masked value looks like to the agent: fixed length, so it does not reveal the length. */
export const MASKED_VALUE = "••••••";

export interface MaskRules {
  /** Extra CSS selectors from site rules (options page). */
  selectors: string[];
}

/**
 * rrweb tests text nodes with `closest(selector)`, which already walks the ancestors: a
 * descendant form (`[x] *`) would only repeat that walk at every level (10× slower snapshots).
 */
export function maskSelector(rules: MaskRules): string {
  return [`[${MASK_ATTRIBUTE}]`, ...rules.selectors].join(", ");
}

/**
 * Fields once seen as password or payment fields stay masked for the session: a "show password"
 * toggle that switches `type` to text must not send the password in clear.
 */
const everSensitive = new WeakSet<Element>();

/** True for fields whose value must never be sent: passwords, payment fields, marked or ruled fields. */
export function isSensitiveField(element: Element, rules: MaskRules): boolean {
  if (everSensitive.has(element)) return true;
  const type = (element.getAttribute("type") ?? "").toLowerCase();
  const autocomplete = (element.getAttribute("autocomplete") ?? "").toLowerCase();
  if (type === "password" || /(^|\s)cc-/.test(autocomplete)) {
    everSensitive.add(element);
    return true;
  }
  return isInMaskedBlock(element, rules);
}

/** Inside `[data-glimpse-mask]` or a site rule's selector, also through open shadow roots (a masked host masks its shadow tree). */
export function isInMaskedBlock(element: Element, rules: MaskRules): boolean {
  if (closestAcrossShadow(element, `[${MASK_ATTRIBUTE}]`)) return true;
  return rules.selectors.some((selector) => {
    try {
      return closestAcrossShadow(element, selector) !== null;
    } catch {
      return false; // an invalid selector in a site rule must not break capture
    }
  });
}

/** `closest`, continuing from a shadow root's host. */
function closestAcrossShadow(element: Element, selector: string): Element | null {
  let current: Element | null = element;
  while (current) {
    const found = current.closest(selector);
    if (found) return found;
    const root: Node | undefined = typeof current.getRootNode === "function" ? current.getRootNode() : undefined;
    current = root && root !== current && "host" in root ? (root as ShadowRoot).host : null;
  }
  return null;
}

/** Attributes a masked element keeps: what layout and styling need, nothing that carries content. */
const KEPT_WHEN_MASKED = new Set(["class", "style", "id", "type", "width", "height", "colspan", "rowspan", "cols", "rows", "size", "hidden", "dir", "disabled", "multiple", "rel", "media", "_cssText", "rr_width", "rr_height", MASK_ATTRIBUTE]);

/**
 * A masked element sends its structure only: no title, data-*, aria-label, alt, placeholder, href,
 * no hidden-input or option values, no checked or selected state. Field values show as the mask.
 */
export function scrubMaskedAttributes(tag: string, attributes: Record<string, unknown>): void {
  for (const name of Object.keys(attributes)) {
    if (KEPT_WHEN_MASKED.has(name)) continue;
    if (name === "value" && (tag === "textarea" || (tag === "input" && attributes.type !== "hidden"))) {
      attributes.value = attributes.value ? MASKED_VALUE : "";
      continue;
    }
    delete attributes[name];
  }
}

export function maskValue(value: string, element: Element | null, rules: MaskRules): string {
  // rrweb passes no element for some paths; with no element to judge, mask.
  if (!element || isSensitiveField(element, rules)) return value ? MASKED_VALUE : "";
  return value;
}
