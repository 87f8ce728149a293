import { describe, expect, it } from "vitest";
import { isSensitiveField, maskValue, MASKED_VALUE } from "../../src/capture/masking";

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
});
