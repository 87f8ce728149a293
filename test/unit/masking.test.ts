import { describe, expect, it } from "vitest";
import { isInMaskedBlock, isSensitiveField, maskValue, MASKED_VALUE, scrubMaskedAttributes } from "../../src/capture/masking";

/** A minimal Element stand-in: attributes plus the ancestors `closest` walks. */
function element(attributes: Record<string, string>, ancestors: Record<string, string>[] = [], tag = "input"): Element {
  const matches = (attrs: Record<string, string>, selector: string) => {
    const attr = /^\[([\w-]+)\]$/.exec(selector);
    if (attr) return attr[1]! in attrs;
    const cls = /^\.([\w-]+)$/.exec(selector);
    if (cls) return (attrs.class ?? "").split(" ").includes(cls[1]!);
    return selector === tag;
  };
  return {
    getAttribute: (name: string) => attributes[name] ?? null,
    matches: (selector: string) => matches(attributes, selector),
    closest: (selector: string) => ([attributes, ...ancestors].some((a) => matches(a, selector)) ? ({} as Element) : null),
  } as unknown as Element;
}

const none = { selectors: [] };

describe("masking", () => {
  it.each([
    ["a password field", element({ type: "password" })],
    ["a card number", element({ autocomplete: "cc-number" })],
    ["a card code, in a section-scoped autocomplete", element({ autocomplete: "section-pay cc-csc" })],
    ["a field marked data-glimpse-mask", element({ "data-glimpse-mask": "" })],
    ["a field inside a data-glimpse-mask block", element({}, [{ "data-glimpse-mask": "" }])],
  ])("masks %s", (_name, el) => {
    expect(isSensitiveField(el, none)).toBe(true);
    expect(maskValue("secret-1234", el, none)).toBe(MASKED_VALUE);
  });

  it("masks fields matched by a site rule selector", () => {
    expect(isSensitiveField(element({ class: "ssn" }), { selectors: [".ssn"] })).toBe(true);
  });

  it("leaves ordinary fields readable", () => {
    expect(maskValue("lamp", element({ type: "search", autocomplete: "off" }), none)).toBe("lamp");
    expect(maskValue("Vera", element({ autocomplete: "name" }), none)).toBe("Vera");
  });

  it("does not reveal the length of a masked value", () => {
    const pw = element({ type: "password" });
    expect(maskValue("a", pw, none)).toBe(maskValue("a much longer secret", pw, none));
    expect(maskValue("", pw, none)).toBe("");
  });

  it("masks when rrweb gives no element to judge", () => {
    expect(maskValue("anything", null, none)).toBe(MASKED_VALUE);
  });

  it("ignores an invalid site-rule selector instead of breaking capture", () => {
    const el = element({});
    (el as unknown as { matches: () => never }).matches = () => {
      throw new SyntaxError("bad selector");
    };
    expect(isSensitiveField(el, { selectors: ["[[["] })).toBe(false);
  });

  it("keeps a field masked after a show-password toggle switches its type to text", () => {
    const attributes: Record<string, string> = { type: "password" };
    const pw = element(attributes);
    expect(isSensitiveField(pw, none)).toBe(true);
    attributes.type = "text";
    expect(isSensitiveField(pw, none)).toBe(true);
    expect(isSensitiveField(element({ type: "text" }), none)).toBe(false);
  });

  it("masks the shadow tree of a masked host", () => {
    const host = element({ "data-glimpse-mask": "" }, [], "div");
    const inShadow = element({}, [], "input");
    (inShadow as unknown as { getRootNode: () => object }).getRootNode = () => ({ host });
    expect(isInMaskedBlock(inShadow, none)).toBe(true);
    expect(maskValue("secret", inShadow, none)).toBe(MASKED_VALUE);
    const elsewhere = element({}, [], "input");
    (elsewhere as unknown as { getRootNode: () => object }).getRootNode = () => ({ host: element({}, [], "div") });
    expect(isInMaskedBlock(elsewhere, none)).toBe(false);
  });

  it.each([
    ["a link", "a", { href: "/account?token=t", title: "Ana", class: "link" }, { class: "link" }],
    ["an image", "img", { alt: "Ana's photo", width: "10", height: "10", "data-user": "42" }, { width: "10", height: "10" }],
    ["a hidden input", "input", { type: "hidden", value: "csrf-123", name: "csrf" }, { type: "hidden" }],
    ["a text input", "input", { value: "typed", placeholder: "Card holder", "aria-label": "Holder", style: "width:9em" }, { value: MASKED_VALUE, style: "width:9em" }],
    ["an option", "option", { value: "gold", selected: true }, {}],
    ["a checked radio", "input", { type: "radio", checked: true, value: "plan-b" }, { type: "radio", value: MASKED_VALUE }],
  ])("sends only structure for %s in a masked block", (_name, tag, attributes, kept) => {
    const copy: Record<string, unknown> = { ...attributes };
    scrubMaskedAttributes(tag, copy);
    expect(copy).toEqual(kept);
  });
});
