/**
 * The fidelity pages with a Firefox ESR visitor (the built Firefox extension: event page,
 * MAIN-world script through scripting.executeScript, carried assets fetched by Firefox) and the
 * agent in Chromium, blocked from every origin but the Glimpse server. Two browsers render
 * differently, so instead of pixels this compares what decides them: computed styles of the parts
 * page scripts change, the form state field by field, every image and the canvas picture.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page as AgentPage } from "playwright-core";
import type { Page } from "puppeteer-core";
import { PNG } from "pngjs";
import { launchAgent } from "../helpers/chromium";
import { replayed } from "../helpers/console";
import { expectSameFormState, FORM_STATE, joinWithoutSiteAccess, type AgentWatch, type FormState } from "../helpers/fidelity";
import { launchFirefoxVisitor, shareAndReadKey, type FirefoxVisitor } from "../helpers/firefox";
import { startServer, type TestServer } from "../helpers/server";
import { startSite, type Site } from "../helpers/site";
import { AGENT_PASSWORD } from "../helpers/world";

let server: TestServer;
let visitor: FirefoxVisitor;
let agent: Awaited<ReturnType<typeof launchAgent>>;
let site: Site;
let page: Page;
let alice: AgentPage;
const watch: AgentWatch = { blocked: [], noise: [] };

beforeAll(async () => {
  server = await startServer();
  server.addGroup("demo");
  await server.addAgent("demo", "alice", AGENT_PASSWORD);
  site = await startSite();
  visitor = await launchFirefoxVisitor({ serverUrl: server.url, groupId: "demo", sites: [`${site.url}/*`] });
  agent = await launchAgent();
  page = await visitor.browser.newPage();
});

afterAll(async () => {
  await visitor?.close();
  await agent?.close();
  await server?.close();
  await site?.close();
});

/** Computed styles that page scripts change on the fidelity pages (shadow roots included). */
const STYLES = `
  const pick = (el) => { if (!el) return null; const s = el.ownerDocument.defaultView.getComputedStyle(el); return [s.color, s.backgroundColor, s.borderLeftColor, s.fontSize].join(" | "); };
  const shadow = [...doc.querySelectorAll("price-card")].map((host) => pick(host.shadowRoot && host.shadowRoot.querySelector(".card")));
  return { h1: pick(doc.querySelector("h1")), app: pick(doc.getElementById("app")), cards: [...doc.querySelectorAll("#app > div > div")].map(pick), shadow };
`;
const styles = () => page.evaluate(`(() => { const doc = document; ${STYLES} })()`);
const h1 = () => replayed(alice, "return doc.querySelector('h1')?.textContent");
const waitHeading = (text: string) => expect.poll(h1, { timeout: 20_000 }).toContain(text);

describe("fidelity with a Firefox ESR visitor", () => {
  it("CSS-in-JS and constructed sheets changed by script arrive (computed styles match)", async () => {
    await page.goto(`${site.url}/css-in-js.html`);
    const key = await shareAndReadKey(page);
    alice = await joinWithoutSiteAccess(agent.browser, server.url, "alice", key, watch);
    await waitHeading("Account (light)");
    await expect.poll(() => replayed(alice, STYLES), { timeout: 20_000 }).toEqual(await styles());

    await page.click("#theme");
    await page.click("#add");
    await page.type("#todo", "Refund");
    await page.keyboard.press("Enter");
    await waitHeading("Account (dark)");
    await expect.poll(() => replayed(alice, STYLES), { timeout: 20_000 }).toEqual(await styles());
    expect(await replayed(alice, "return doc.getElementById('todo').value")).toBe("");

    await page.goto(`${site.url}/components.html`);
    await waitHeading("Pricing");
    await page.click("#sale");
    await expect.poll(() => replayed(alice, STYLES), { timeout: 20_000 }).toEqual(await styles());
    expect(((await styles()) as { shadow: string[] }).shadow[0]).toContain("rgb(255, 235, 238)"); // the sale colour, not the first one
  });

  it("forms: the visitor's choices and values set by script; masked fields stay masked", async () => {
    await page.goto(`${site.url}/forms.html`);
    await waitHeading("Checkout");
    await page.select("#plan", "pro");
    await page.click("input[value=yearly]");
    await page.click("#terms");
    await page.type("#name", "Fiona");
    await page.type("#pw", "Firefox-planted-pw");
    await page.type("#card", "5555555555554444");
    const visitorState = () => page.evaluate(`(() => { const doc = document; ${FORM_STATE} })()`) as Promise<FormState>;
    await expectSameFormState(visitorState, () => replayed<FormState>(alice, FORM_STATE));
    await page.click("#script-fill");
    await expectSameFormState(visitorState, () => replayed<FormState>(alice, FORM_STATE));
    const relayed = server.inbound.join("\n");
    for (const secret of ["Firefox-planted-pw", "5555555555554444", "LOYAL-SCRIPT-7788", "5500000000000004"]) expect(relayed).not.toContain(secret);
  });

  it("carried assets and the canvas picture arrive although the agent cannot reach the site", async () => {
    await page.goto(`${site.url}/assets.html`);
    await waitHeading("Photos");
    const images = "return [...doc.images].map((i) => i.complete && i.naturalWidth > 0)";
    await expect.poll(() => replayed(alice, images), { timeout: 20_000 }).toEqual([true, true]);
    await expect.poll(() => replayed(alice, "return getComputedStyle(doc.querySelector('.third')).backgroundImage.includes('/assets?u=')"), { timeout: 20_000 }).toBe(true);

    await page.goto(`${site.url}/canvas.html`);
    await waitHeading("Usage");
    await page.click("#next");
    // The same pixels (Firefox may add its own chunks to a PNG, so the bytes can differ).
    const pixels = (dataUrl: string) => PNG.sync.read(Buffer.from(dataUrl.slice(dataUrl.indexOf(",") + 1), "base64")).data.toString("base64");
    const picture = pixels(await page.evaluate(() => (document.getElementById("chart") as HTMLCanvasElement).toDataURL("image/png")));
    const shown = async () => {
      const background = (await replayed<string>(alice, "return doc.getElementById('chart').style.backgroundImage")) ?? "";
      const match = /^url\("(data:image\/png;base64,[^"]+)"\)$/.exec(background);
      return match ? pixels(match[1]!) : null;
    };
    await expect.poll(shown, { timeout: 20_000 }).toBe(picture);
  });

  it("cross-origin frames, nested and inside a same-origin frame, are shown and follow the visitor's input", async () => {
    await page.goto(`${site.url}/frames.html`);
    await waitHeading("Order help");
    const widget = (body: string) => replayed(alice, `const w = doc.getElementById("widget")?.contentDocument; if (!w) return null; ${body}`);
    await expect.poll(() => widget("return w.getElementById('receipt')?.contentDocument?.getElementById('receipt-no')?.textContent ?? null"), { timeout: 20_000 }).toBe("R-2041");
    const innerEmbed = "return doc.getElementById('same')?.contentDocument?.getElementById('inner-embed')?.contentDocument?.body?.textContent?.trim() ?? null";
    await expect.poll(() => replayed(alice, innerEmbed), { timeout: 20_000 }).toBe("Third-party widget");
    // A frame added inside the same-origin frame, where no script of Glimpse's runs, gets its recorder too.
    await page.frames().find((candidate) => candidate.url().endsWith("/frame-same.html"))!.click("#show-offer");
    await expect.poll(() => replayed(alice, innerEmbed.replace("'inner-embed'", "'late-inner'")), { timeout: 20_000 }).toBe("Third-party widget");
    const frame = page.frames().find((candidate) => candidate.url().endsWith("/frame-widget.html"))!;
    await frame.type("#ref", "FX-9");
    await frame.type("#secret", "Firefox-frame-pw");
    await frame.click("#confirm");
    await expect.poll(() => widget("return w.getElementById('status').textContent"), { timeout: 20_000 }).toBe("Confirmed for FX-9");
    expect(await widget("return w.getElementById('ref').value")).toBe("FX-9");
    expect(server.inbound.join("\n")).not.toContain("Firefox-frame-pw");
    expect(watch.blocked).toEqual([]);
    expect(watch.noise).toEqual([]);
  });
});
