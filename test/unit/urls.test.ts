import { describe, expect, it } from "vitest";
import { collectUrls, cssDependencies, mapCssUrls, mapEventUrls, mapSrcset } from "../../src/capture/urls";
import { applySplice, diffRules, SHEET_EVENT } from "../../src/capture/page-events";

const toAsset = (url: string) => `/a?u=${encodeURIComponent(url)}`;

describe("carried resource URLs", () => {
  it("maps url() in every quoting and @import, and leaves data: and fragments alone", () => {
    const css = `a{background:url(https://s.test/a.png)} b{mask:url('https://s.test/m.svg#x')} c{cursor:url("https://s.test/c.cur"),auto} d{background:url(data:image/png;base64,AA)} e{fill:url(#grad)} @import "https://s.test/more.css";`;
    const mapped = mapCssUrls(css, (u) => `<${u}>`);
    expect(mapped).toContain('url("<https://s.test/a.png>")');
    expect(mapped).toContain('url("<https://s.test/m.svg#x>")');
    expect(mapped).toContain('url("<https://s.test/c.cur>"),auto');
    expect(mapped).toContain("url(data:image/png;base64,AA)");
    expect(mapped).toContain("url(#grad)");
    expect(mapped).toContain('@import "<https://s.test/more.css>"');
  });

  it("maps each srcset candidate and keeps its descriptor", () => {
    expect(mapSrcset("https://s.test/a.png 1x, https://s.test/b.png 2x", (u) => u.replace("s.test", "x"))).toBe("https://x/a.png 1x, https://x/b.png 2x");
  });

  it("maps images, posters, sprites, stylesheet links and inline styles in a full snapshot, keeping sprite fragments", () => {
    const event = {
      type: 2,
      data: {
        node: {
          type: 0,
          childNodes: [
            { type: 2, id: 2, tagName: "img", attributes: { src: "https://s.test/p.png", srcset: "https://s.test/p2.png 2x" }, childNodes: [] },
            { type: 2, id: 3, tagName: "video", attributes: { poster: "https://s.test/poster.png" }, childNodes: [] },
            { type: 2, id: 4, tagName: "use", attributes: { href: "https://s.test/sprite.svg#star" }, childNodes: [] },
            { type: 2, id: 5, tagName: "use", attributes: { href: "#local" }, childNodes: [] },
            { type: 2, id: 6, tagName: "link", attributes: { rel: "stylesheet", href: "https://cdn.test/x.css" }, childNodes: [] },
            { type: 2, id: 7, tagName: "link", attributes: { rel: "canonical", href: "https://s.test/page" }, childNodes: [] },
            { type: 2, id: 8, tagName: "div", attributes: { style: "background: url(https://s.test/bg.png)" }, childNodes: [] },
            { type: 2, id: 9, tagName: "a", attributes: { href: "https://s.test/next" }, childNodes: [] },
            { type: 2, id: 10, tagName: "style", attributes: { _cssText: "@font-face{src:url(https://s.test/f.woff2)}" }, childNodes: [] },
          ],
        },
      },
    };
    const mapped = mapEventUrls(structuredClone(event), toAsset);
    const [img, video, use, local, link, canonical, div, anchor, style] = mapped.data.node.childNodes as unknown as { attributes: Record<string, string> }[];
    expect(img!.attributes.src).toBe(toAsset("https://s.test/p.png"));
    expect(img!.attributes.srcset).toBe(`${toAsset("https://s.test/p2.png")} 2x`);
    expect(video!.attributes.poster).toBe(toAsset("https://s.test/poster.png"));
    expect(use!.attributes.href).toBe(`${toAsset("https://s.test/sprite.svg")}#star`);
    expect(local!.attributes.href).toBe("#local");
    expect(link!.attributes.href).toBe(toAsset("https://cdn.test/x.css"));
    expect(canonical!.attributes.href).toBe("https://s.test/page");
    expect(div!.attributes.style).toContain(toAsset("https://s.test/bg.png"));
    expect(anchor!.attributes.href).toBe("https://s.test/next");
    expect(style!.attributes._cssText).toContain(toAsset("https://s.test/f.woff2"));
    expect(collectUrls(structuredClone(event)).sort()).toEqual(
      ["https://cdn.test/x.css", "https://s.test/bg.png", "https://s.test/f.woff2", "https://s.test/p.png", "https://s.test/p2.png", "https://s.test/poster.png", "https://s.test/sprite.svg"].sort(),
    );
  });

  it("maps added nodes, changed attributes, stylesheet rules and Glimpse's sheet events", () => {
    const mutation = { type: 3, data: { source: 0, adds: [{ node: { type: 2, id: 1, tagName: "img", attributes: { src: "https://s.test/new.png" }, childNodes: [] } }], attributes: [{ id: 2, attributes: { src: "https://s.test/swap.png", style: "background:url(https://s.test/b.png)" } }], texts: [], removes: [] } };
    const rule = { type: 3, data: { source: 8, id: 3, adds: [{ rule: ".x{background:url(https://s.test/r.png)}", index: 0 }] } };
    const sheet = { type: 5, data: { tag: SHEET_EVENT, payload: { id: 4, index: 0, remove: -1, rules: [".y{background:url(https://s.test/s.png)}"] } } };
    expect(collectUrls(mutation).sort()).toEqual(["https://s.test/b.png", "https://s.test/new.png", "https://s.test/swap.png"]);
    expect(collectUrls(rule)).toEqual(["https://s.test/r.png"]);
    expect(collectUrls(sheet)).toEqual(["https://s.test/s.png"]);
  });

  it("leaves what it does not carry: relative, javascript: and blob: URLs", () => {
    const event = { type: 2, data: { node: { type: 2, id: 1, tagName: "img", attributes: { src: "javascript:alert(1)" }, childNodes: [{ type: 2, id: 2, tagName: "img", attributes: { src: "blob:https://s.test/1" } }] } } };
    expect(collectUrls(event)).toEqual([]);
  });

  it("finds a carried stylesheet's fonts and images relative to the stylesheet", () => {
    expect(cssDependencies("a{background:url(img/a.png)} @font-face{src:url('../f.woff2#x')}", "https://cdn.test/css/site.css").sort()).toEqual(["https://cdn.test/css/img/a.png", "https://cdn.test/f.woff2"]);
  });
});

describe("sheet rule diffs", () => {
  it.each([
    ["an append", ["a", "b"], ["a", "b", "c"], { index: 2, remove: 0, rules: ["c"] }],
    ["an insert in the middle", ["a", "c"], ["a", "b", "c"], { index: 1, remove: 0, rules: ["b"] }],
    ["a delete", ["a", "b", "c"], ["a", "c"], { index: 1, remove: 1, rules: [] }],
    ["a replacement", ["a", "b", "c"], ["a", "x", "c"], { index: 1, remove: 1, rules: ["x"] }],
    ["everything new", ["a"], ["b", "c"], { index: 0, remove: 1, rules: ["b", "c"] }],
  ])("describes %s as the smallest splice, which rebuilds the new rules", (_name, before, after, splice) => {
    expect(diffRules(before, after)).toEqual(splice);
    expect(applySplice(before, splice)).toEqual(after);
  });

  it("says nothing changed when nothing did, and replaces all on remove -1", () => {
    expect(diffRules(["a"], ["a"])).toBeNull();
    expect(applySplice(["a", "b"], { index: 0, remove: -1, rules: ["z"] })).toEqual(["z"]);
  });
});
