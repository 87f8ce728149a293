/**
 * Every place a recorded event names a resource the agent's view needs (images, srcset, posters,
 * SVG sprites, CSS url() and @import, fonts). One walker serves both ends: the extension collects
 * the URLs it must carry, the console maps them to the session's asset endpoint, so the agent's
 * browser never fetches from the visitor's site (DESIGN §3).
 */
import { SHEET_EVENT, ADOPTED_EVENT, type SheetChange, type AdoptedChange } from "./page-events";

export type UrlMap = (absoluteUrl: string) => string;

/** Only http(s) resources are carried; data: stays inline; anything else is not ours to fetch. */
export function isCarried(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Absolute form of `url` against `base`, or null when it does not parse. */
export function absolute(url: string, base: string): string | null {
  try {
    return new URL(url, base).href;
  } catch {
    return null;
  }
}

const CSS_URL = /url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s][^)\s]*))\s*\)|@import\s+(?:"([^"]*)"|'([^']*)')/gi;

/** Maps url(...) and @import "..." in CSS text; other text is left exactly as it was. */
export function mapCssUrls(css: string, map: (url: string) => string): string {
  if (!/url\(|@import/i.test(css)) return css;
  return css.replace(CSS_URL, (whole, d1?: string, s1?: string, bare?: string, d2?: string, s2?: string) => {
    const url = d1 ?? s1 ?? bare;
    if (url !== undefined) {
      if (url.startsWith("data:") || url.startsWith("#") || url === "") return whole;
      return `url("${escapeCss(map(url))}")`;
    }
    const imported = (d2 ?? s2)!;
    return `@import "${escapeCss(map(imported))}"`;
  });
}

const escapeCss = (url: string) => url.replace(/["\\\n]/g, (c) => (c === "\n" ? "%0A" : `\\${c}`));

/** Maps each candidate of a srcset ("a.png 1x, b.png 2x"). */
export function mapSrcset(value: string, map: (url: string) => string): string {
  return value
    .split(/,(?=\s*\S)/)
    .map((candidate) => {
      const match = /^(\s*)(\S+)(.*)$/s.exec(candidate);
      if (!match) return candidate;
      const [, lead, url, rest] = match;
      return url!.startsWith("data:") ? candidate : `${lead}${map(url!)}${rest}`;
    })
    .join(",");
}

/** Attributes holding one URL, per element (lower-case tag names; SVG's are as written). */
const URL_ATTRIBUTES: Record<string, string[]> = {
  img: ["src"],
  source: ["src"],
  input: ["src"],
  video: ["poster", "src"],
  audio: ["src"],
  track: ["src"],
  image: ["href", "xlink:href"],
  use: ["href", "xlink:href"],
  feImage: ["href", "xlink:href"],
  link: ["href"],
  table: ["background"],
  td: ["background"],
  th: ["background"],
  body: ["background"],
};

/** Links the agent's view needs (stylesheets the recorder could not inline, icons are not needed). */
function linkCarried(attributes: Record<string, unknown>): boolean {
  const rel = String(attributes.rel ?? "").toLowerCase();
  return /\bstylesheet\b/.test(rel) || (/\bpreload\b/.test(rel) && ["font", "image", "style"].includes(String(attributes.as ?? "")));
}

interface SerializedNode {
  type: number;
  tagName?: string;
  attributes?: Record<string, unknown>;
  childNodes?: SerializedNode[];
  textContent?: string;
  isStyle?: boolean;
}

/**
 * Maps every resource URL in the attributes of a serialised element (in place). `map` receives
 * only carried (http/https) absolute URLs; its answer replaces them. An SVG `<use href="#id">`
 * (same-document) is left alone; `<use href="sprite.svg#id">` keeps its fragment.
 */
export function mapAttributes(tagName: string, attributes: Record<string, unknown>, map: UrlMap): void {
  const one = (url: string) => mapOne(url, map);
  for (const name of URL_ATTRIBUTES[tagName] ?? URL_ATTRIBUTES[tagName.toLowerCase()] ?? []) {
    const value = attributes[name];
    if (typeof value !== "string" || value === "") continue;
    if (tagName === "link" && !linkCarried(attributes)) continue;
    attributes[name] = one(value);
  }
  for (const name of ["srcset", "imagesrcset"]) {
    if (typeof attributes[name] === "string") attributes[name] = mapSrcset(attributes[name] as string, one);
  }
  if (typeof attributes.style === "string") attributes.style = mapCssUrls(attributes.style, one);
  if (typeof attributes._cssText === "string") attributes._cssText = mapCssUrls(attributes._cssText, one);
}

function mapOne(url: string, map: UrlMap): string {
  if (!isCarried(url)) return url;
  const hash = url.indexOf("#");
  // The fragment names a symbol in a sprite, or a media fragment: it stays on the mapped URL.
  if (hash < 0) return map(url);
  return map(url.slice(0, hash)) + url.slice(hash);
}

function mapNode(node: SerializedNode, map: UrlMap): void {
  if (node.type === 2 && node.tagName && node.attributes) mapAttributes(node.tagName, node.attributes, map);
  // A <style>'s text child carries its CSS when rrweb did not move it into _cssText.
  if (node.type === 3 && node.isStyle && typeof node.textContent === "string") node.textContent = mapCssUrls(node.textContent, (u) => mapOne(u, map));
  for (const child of node.childNodes ?? []) mapNode(child, map);
}

interface AnyEvent {
  type: number;
  data?: Record<string, unknown> & { source?: number; tag?: string; payload?: unknown };
}

/**
 * Maps resource URLs everywhere rrweb (and Glimpse's own page events) put them: full snapshots,
 * added nodes, attribute changes, style sheet rules, adopted sheets. Mutates `event` in place and
 * returns it; the caller passes a copy when it must keep the original.
 */
export function mapEventUrls<T>(event: T, map: UrlMap): T {
  const e = event as unknown as AnyEvent;
  const data = e.data;
  if (!data) return event;
  const css = (text: string) => mapCssUrls(text, (u) => mapOne(u, map));
  if (e.type === 2 && data.node) mapNode(data.node as SerializedNode, map);
  if (e.type === 3) {
    switch (data.source) {
      case 0: {
        for (const add of (data.adds as { node: SerializedNode }[] | undefined) ?? []) mapNode(add.node, map);
        for (const change of (data.attributes as { attributes: Record<string, unknown>; id: number }[] | undefined) ?? []) {
          // The tag is not in the event: map every URL-bearing attribute name it may be.
          for (const [name, value] of Object.entries(change.attributes)) {
            if (typeof value !== "string") continue;
            if (name === "style") change.attributes[name] = css(value);
            else if (name === "srcset" || name === "imagesrcset") change.attributes[name] = mapSrcset(value, (u) => mapOne(u, map));
            else if (["src", "poster", "xlink:href", "background"].includes(name) || (name === "href" && isResourceHref(value))) change.attributes[name] = mapOne(value, map);
          }
        }
        for (const text of (data.texts as { value: string | null }[] | undefined) ?? []) {
          if (typeof text.value === "string" && /url\(|@import/.test(text.value)) text.value = css(text.value);
        }
        break;
      }
      case 8: // StyleSheetRule
        for (const add of (data.adds as { rule: string }[] | undefined) ?? []) if (typeof add.rule === "string") add.rule = css(add.rule);
        if (typeof data.replace === "string") data.replace = css(data.replace);
        if (typeof data.replaceSync === "string") data.replaceSync = css(data.replaceSync);
        break;
      case 13: // StyleDeclaration
        if (data.set && typeof (data.set as { value?: unknown }).value === "string") (data.set as { value: string }).value = css((data.set as { value: string }).value);
        break;
      case 15: // AdoptedStyleSheet
        for (const style of (data.styles as { rules: { rule: string }[] }[] | undefined) ?? []) for (const rule of style.rules) rule.rule = css(rule.rule);
        break;
    }
  }
  if (e.type === 5 && data.payload) {
    if (data.tag === SHEET_EVENT) {
      const change = data.payload as SheetChange;
      change.rules = change.rules.map(css);
    } else if (data.tag === ADOPTED_EVENT) {
      const change = data.payload as AdoptedChange;
      change.sheets = change.sheets.map((rules) => rules.map(css));
    }
  }
  return event;
}

/** An `href` attribute change is a resource only on a stylesheet link or SVG image/use (not on <a>). */
function isResourceHref(value: string): boolean {
  return /\.(css|svg|png|jpe?g|gif|webp|avif)(\?|#|$)/i.test(value);
}

/**
 * Every carried URL an event names (deduplicated, fragment removed). It walks the event in place
 * with an identity map: only the quoting of CSS url() may change, which means the same.
 */
export function collectUrls(event: unknown): string[] {
  const found = new Set<string>();
  mapEventUrls(event, (url) => {
    found.add(url);
    return url;
  });
  return [...found];
}

/** URLs a fetched stylesheet names, resolved against the stylesheet's own URL. */
export function cssDependencies(css: string, cssUrl: string): string[] {
  const found = new Set<string>();
  mapCssUrls(css, (url) => {
    const resolved = absolute(url, cssUrl);
    if (resolved && isCarried(resolved)) found.add(resolved.split("#")[0]!);
    return url;
  });
  return [...found];
}
