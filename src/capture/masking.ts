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

/** True for fields whose value must never be sent: passwords, payment fields, marked or ruled fields. */
export function isSensitiveField(element: Element, rules: MaskRules): boolean {
  const type = (element.getAttribute("type") ?? "").toLowerCase();
  if (type === "password") return true;
  const autocomplete = (element.getAttribute("autocomplete") ?? "").toLowerCase();
  if (/(^|\s)cc-/.test(autocomplete)) return true;
  if (element.closest(`[${MASK_ATTRIBUTE}]`)) return true;
  return rules.selectors.some((selector) => safeMatches(element, selector));
}

function safeMatches(element: Element, selector: string): boolean {
  try {
    return element.matches(selector) || element.closest(selector) !== null;
  } catch {
    return false; // an invalid selector in a site rule must not break capture
  }
}

export function maskValue(value: string, element: Element | null, rules: MaskRules): string {
  // rrweb passes no element for some paths; with no element to judge, mask.
  if (!element || isSensitiveField(element, rules)) return value ? MASKED_VALUE : "";
  return value;
}
