/**
 * The fidelity suite: the agent sees what the visitor sees. Pages built with real libraries
 * (emotion in production mode, web components with constructed sheets, a canvas chart, forms,
 * remote images, fonts, sprites, a third party's stylesheet) are served from their own origins;
 * the agent's browser is blocked from every origin but the Glimpse server. Each page is compared
 * right after the agent's view is built and after the visitor acts: the visitor's viewport and the
 * agent's replayer at scale 1, pixel by pixel (pixelmatch), and the form state field by field.
 */
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import pixelmatch from "pixelmatch";
import { PNG } from "pngjs";
import { configureExtension, type launchAgent, type VisitorBrowser } from "../helpers/chromium";
import { replayed, shareAndReadKey } from "../helpers/console";
import { uiHas, uiRect } from "../helpers/ui";
import { expectSameFormState, FORM_STATE, joinWithoutSiteAccess, type AgentWatch, type FormState } from "../helpers/fidelity";
import type { TestServer } from "../helpers/server";
import { startSite, type Site } from "../helpers/site";
import { startWorld, stopWorld } from "../helpers/world";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;
let site: Site;
let page: Page;
let alice: Page;
let key: string;
const watch: AgentWatch = { blocked: [], noise: [] };
const VIEWPORT = { width: 1000, height: 700 };
const SECRETS = ["Hunter2-planted-pw", "4111111111111111", "LOYAL-SECRET-5521", "LOYAL-SCRIPT-7788", "5500000000000004", "LOYAL-0000"];

beforeAll(async () => {
  const world = await startWorld({ agents: ["alice", "bob"] });
  ({ server, visitor } = world);
  agent = world.agent!;
  site = await startSite();
  await configureExtension(visitor, { serverUrl: server.url, groupId: "demo", sites: [`${site.url}/*`] });
  page = await visitor.context.newPage();
  await page.setViewportSize(VIEWPORT);
});

afterAll(async () => {
  await site?.close();
  await stopWorld({ server, visitor, agent });
});

/**
 * Share of equal pixels between the visitor's viewport and the agent's replayed page (scale 1).
 * Glimpse's own panel on the visitor's page is never captured (by design), so its box is left out
 * of the comparison on both sides.
 */
async function pixelMatch(agentPage: Page, label: string): Promise<number> {
  const scale = await agentPage.evaluate(() => (document.querySelector("[data-testid=agent-view]") as HTMLElement | null)?.style.transform ?? "");
  if (scale && scale !== "scale(1)") throw new Error(`the agent's view is scaled (${scale}); the comparison needs scale 1`);
  const panel = await uiRect(page);
  const theirs = PNG.sync.read(await page.screenshot());
  const style = ".replayer-mouse { display: none !important; } [data-testid=agent-view] iframe { border: 0 !important; }";
  await agentPage.addStyleTag({ content: style });
  const box = (await agentPage.locator("[data-testid=agent-view] iframe").boundingBox())!;
  const clip = { x: Math.round(box.x), y: Math.round(box.y), width: Math.round(box.width), height: Math.round(box.height) };
  const ours = PNG.sync.read(await agentPage.screenshot({ clip }));
  if (process.env.GLIMPSE_FIDELITY_DUMP) {
    writeFileSync(`${process.env.GLIMPSE_FIDELITY_DUMP}/${label}-visitor.png`, PNG.sync.write(theirs));
    writeFileSync(`${process.env.GLIMPSE_FIDELITY_DUMP}/${label}-agent.png`, PNG.sync.write(ours));
  }
  if (theirs.width !== ours.width || theirs.height !== ours.height) return 0;
  const { width, height } = theirs;
  let excluded = 0;
  if (panel) {
    const [x0, y0] = [Math.max(0, Math.floor(panel.x)), Math.max(0, Math.floor(panel.y))];
    const [x1, y1] = [Math.min(width, Math.ceil(panel.x + panel.width)), Math.min(height, Math.ceil(panel.y + panel.height))];
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        const i = (y * width + x) * 4;
        for (let c = 0; c < 4; c++) theirs.data[i + c] = ours.data[i + c] = 0;
      }
    }
    excluded = Math.max(0, x1 - x0) * Math.max(0, y1 - y0);
  }
  const different = pixelmatch(theirs.data, ours.data, undefined, width, height, { threshold: 0.1 });
  return 1 - different / (width * height - excluded);
}

/** Waits (on state, generously) until ≥ 99 % of pixels match; answers the last share seen. */
async function expectPixels(agentPage: Page, label: string): Promise<void> {
  let last = 0;
  await expect
    .poll(async () => (last = await pixelMatch(agentPage, label)), { timeout: 30_000, interval: 500 })
    .toBeGreaterThanOrEqual(0.99)
    .catch((error: unknown) => {
      throw new Error(`${label}: ${(last * 100).toFixed(2)} % of pixels match`, { cause: error });
    });
}

const visitorState = () => page.evaluate(`(() => { const doc = document; ${FORM_STATE} })()`) as Promise<FormState>;
const agentState = (agentPage: Page) => replayed<FormState>(agentPage, FORM_STATE);

const expectFormState = (agentPage: Page) => expectSameFormState(visitorState, () => agentState(agentPage));

describe("fidelity: the agent sees what the visitor sees (Chromium)", () => {
  it("CSS-in-JS (emotion, insertRule): matches after the join and after a theme change, a new component and a script-cleared input", async () => {
    await page.goto(`${site.url}/css-in-js.html`);
    key = await shareAndReadKey(page);
    alice = await joinWithoutSiteAccess(agent.browser, server.url, "alice", key, watch);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Account (light)");
    await expectPixels(alice, "emotion page after join");

    await page.getByRole("button", { name: "Toggle theme" }).click();
    await page.getByRole("button", { name: "Add card" }).click();
    await page.locator("#todo").pressSequentially("Refund");
    await page.locator("#todo").press("Enter");
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Account (dark)");
    await expect.poll(() => replayed(alice, "return doc.getElementById('todo')?.value"), { timeout: 20_000 }).toBe("");
    await expectPixels(alice, "emotion page after theme toggle");
  });

  it("forms: true state at the snapshot and live, script-set values, scroll; masked fields stay masked", async () => {
    await page.goto(`${site.url}/forms.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Checkout");
    await expectPixels(alice, "forms after load");
    await expectFormState(alice);

    // The visitor fills the form as a person would.
    await page.locator("#plan").selectOption("pro");
    await page.locator("#addons").selectOption(["backup", "audit"]);
    await page.getByLabel("Yearly").check();
    await page.getByLabel("I agree").check();
    await page.locator("#name").pressSequentially("Vera");
    await page.locator("#coupon").pressSequentially("SAVE10");
    await page.locator("#coupon").press("Enter"); // the page clears it by script
    await page.locator("#notes").pressSequentially("Call me");
    await page.locator("#editor").click();
    await page.keyboard.press("End");
    await page.keyboard.type(" reply");
    await page.locator("#pw").pressSequentially("Hunter2-planted-pw");
    await page.locator("#card").pressSequentially("4111111111111111");
    await page.locator("#loyalty").pressSequentially("LOYAL-SECRET-5521");
    await page.locator("#month").selectOption("02");
    await page.locator("#log").evaluate((el) => (el.scrollTop = 200));
    await page.locator("#name").click();
    await expectFormState(alice);
    await expectPixels(alice, "forms after the visitor's input");

    // A second agent joins late: the snapshot carries the live state, not the HTML defaults.
    const bob = await joinWithoutSiteAccess(agent.browser, server.url, "bob", key, watch);
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Checkout");
    await expectFormState(bob);
    expect((await agentState(bob))!.fields.find((f) => f.id === "plan")!.value).toBe("pro");
    expect((await agentState(bob))!.fields.filter((f) => f.checked).map((f) => f.id)).toEqual(["billing", "terms"]);

    // Values set by the page's own script (no input events) reach both agents.
    await page.getByRole("button", { name: "Fill by script" }).click();
    await expectFormState(alice);
    await expectFormState(bob);
    expect((await agentState(alice))!.fields.find((f) => f.id === "plan")!.value).toBe("team");
    await bob.context().close();

    const relayed = server.inbound.join("\n");
    for (const secret of SECRETS) expect(relayed).not.toContain(secret);
    // An image inside a masked element: neither its URL nor its bytes leave the page.
    expect(relayed).not.toContain("secret-avatar");
    expect(await replayed(alice, "return doc.getElementById('avatar').getAttribute('src')")).toBeNull();
  });

  it("carried assets: remote images, srcset, CSS backgrounds, a web font, an SVG sprite, a poster and a third party's stylesheet", async () => {
    await page.goto(`${site.url}/assets.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toContain("Photos");
    await expectPixels(alice, "assets after load");
    await page.getByRole("button", { name: "Show more" }).click();
    await expect.poll(() => replayed(alice, "return doc.querySelector('.late') !== null"), { timeout: 20_000 }).toBe(true);
    await expectPixels(alice, "assets after new images");
  });

  it("canvas: the chart is drawn for the agent, and redrawn when the page redraws it", async () => {
    await page.goto(`${site.url}/canvas.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Usage");
    await expectPixels(alice, "canvas after load");
    await page.getByRole("button", { name: "Next month" }).click();
    await expectPixels(alice, "canvas after redraw");
  });

  it("video: a stream the agent cannot load shows its current frame, and follows the scene", async () => {
    await page.goto(`${site.url}/video.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Camera check");
    await expect.poll(() => replayed(alice, "return doc.getElementById('live')?.getAttribute('poster')?.slice(0, 15) ?? null"), { timeout: 20_000 }).toBe("data:image/jpeg");
    await expectPixels(alice, "video after join");
    await page.getByRole("button", { name: "Next scene" }).click();
    await expectPixels(alice, "video after the scene changed");
  });

  it("web components: shadow roots with adopted constructed sheets, changed by replaceSync and insertRule", async () => {
    await page.goto(`${site.url}/components.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Pricing");
    await expectPixels(alice, "components after load");
    await page.getByRole("button", { name: "Start sale" }).click();
    await expectPixels(alice, "components after the sale");
  });

  it("frames: a third party's cross-origin widget, a frame nested in it, a cross-origin embed in a same-origin frame and a frame added later, live", async () => {
    await page.goto(`${site.url}/frames.html`);
    const widget = (body: string) => replayed(alice, `const w = doc.getElementById("widget")?.contentDocument; if (!w) return null; ${body}`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Order help");
    await expect.poll(() => widget("return w.getElementById('widget-title')?.textContent ?? null"), { timeout: 20_000 }).toBe("Pay by card");
    await expect.poll(() => widget("return w.getElementById('receipt')?.contentDocument?.getElementById('receipt-no')?.textContent ?? null"), { timeout: 20_000 }).toBe("R-2041");
    const innerEmbed = "return doc.getElementById('same')?.contentDocument?.getElementById('inner-embed')?.contentDocument?.body?.textContent?.trim() ?? null";
    await expect.poll(() => replayed(alice, innerEmbed), { timeout: 20_000 }).toBe("Third-party widget");
    // Shown from what Glimpse carried: the replayed frames name no source for the agent's browser to load.
    expect(await replayed(alice, "return [...doc.querySelectorAll('iframe')].map((f) => f.getAttribute('src'))")).toEqual([null, null, null]);
    await expectPixels(alice, "frames after join");

    // The visitor works inside the third party's frame.
    const frame = page.frameLocator("#widget");
    await frame.locator("#ref").pressSequentially("A-77");
    await frame.locator("#number").pressSequentially("5500000000000004");
    await frame.locator("#secret").pressSequentially("Hunter2-planted-pw");
    await frame.getByLabel("Save card").check();
    await frame.getByRole("button", { name: "Confirm" }).click();
    await expect.poll(() => widget("return w.getElementById('status').textContent"), { timeout: 20_000 }).toBe("Confirmed for A-77");
    expect(await widget("return [w.getElementById('ref').value, w.getElementById('save').checked]")).toEqual(["A-77", true]);
    expect(await widget("return [w.getElementById('number').value, w.getElementById('secret').value]")).not.toContain("5500000000000004");
    await expectPixels(alice, "frames after the visitor's input");

    // A frame added after the join gets its recorder too.
    await page.getByRole("button", { name: "Show map" }).click();
    await expect.poll(() => replayed(alice, "return doc.getElementById('late')?.contentDocument?.body?.textContent?.trim() ?? null"), { timeout: 20_000 }).toBe("Third-party widget");
    await expectPixels(alice, "frames after a new frame");
    // And one added inside the same-origin frame, where no script of Glimpse's runs (the page's recorder records it).
    await page.frameLocator("#same").getByRole("button", { name: "Show offer" }).click();
    await expect.poll(() => replayed(alice, "return doc.getElementById('same')?.contentDocument?.getElementById('late-inner')?.contentDocument?.body?.textContent?.trim() ?? null"), { timeout: 20_000 }).toBe("Third-party widget");

    const relayed = server.inbound.join("\n");
    for (const secret of SECRETS) expect(relayed).not.toContain(secret);
    // The frame inside a masked element: nothing of its content was sent, and it shows empty.
    expect(relayed).not.toContain("SECRET-FRAME-4471");
    expect(await replayed(alice, "return doc.getElementById('masked')?.contentDocument?.body?.textContent ?? ''")).toBe("");
  });

  // Pages from public sources (test/fidelity/pages/public/SOURCE.md), unchanged.
  const TODO_TOGGLE = { preact: ".todo-list .toggle", lit: ".todo-list .toggle", "web-components": ".toggle-todo-input" };
  for (const [app, toggle] of Object.entries(TODO_TOGGLE)) {
    it(`a public page, TodoMVC ${app} (tastejs/todomvc): after the join, and after adding todos (input cleared by script) and completing one`, async () => {
      await page.goto(`${site.url}/public/todomvc-${app}/index.html`);
      const input = page.getByPlaceholder("What needs to be done?");
      await input.waitFor();
      const title = await page.title();
      await expect.poll(() => replayed(alice, "return doc.title"), { timeout: 20_000 }).toBe(title);
      await expectPixels(alice, `todomvc-${app} after join`);

      for (const todo of ["Call the bank", "Send the invoice"]) {
        await input.pressSequentially(todo);
        await input.press("Enter");
      }
      await expect.poll(() => input.inputValue()).toBe("");
      await page.locator(toggle).first().check();
      expect(await page.locator(toggle).evaluateAll((boxes) => boxes.map((box) => (box as HTMLInputElement).checked))).toEqual([true, false]);
      await expectPixels(alice, `todomvc-${app} after the visitor's input`);
    });
  }

  it("keeps the session on a page with a 50 MB image and a third party's embed: the cap applies, the agent sees a placeholder and a note", async () => {
    await page.goto(`${site.url}/big-image.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Catalogue scan");
    await alice.getByTestId("assets-skipped").waitFor({ timeout: 20_000 });
    expect(await alice.getByTestId("assets-skipped").textContent()).toContain("could not be shared");
    // The placeholder stands where the image was; the small image beside it arrived.
    await expect.poll(() => replayed(alice, "const img = doc.getElementById('small'); return img.complete && img.naturalWidth"), { timeout: 20_000 }).toBe(300);
    await expect.poll(() => replayed(alice, "const img = doc.getElementById('huge'); return img.complete && img.naturalWidth"), { timeout: 20_000 }).toBe(320);
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    expect(server.app.hub.registry.size).toBe(1);
    // The third party's embed is shown from what Glimpse carried; the agent's browser does not load it.
    await expect.poll(() => replayed(alice, "return doc.getElementById('embed')?.contentDocument?.body?.textContent?.trim() ?? null"), { timeout: 20_000 }).toBe("Third-party widget");
    expect(await replayed(alice, "const f = doc.getElementById('embed'); return !f.getAttribute('src') && f.clientHeight")).toBe(60);
  });

  it("masking leaks nothing: attributes, hidden inputs, option values, a masked host's shadow tree, a show-password toggle, text and typing length", async () => {
    const from = server.inbound.length;
    await page.goto(`${site.url}/masked.html`);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Account");
    await page.locator("#inmask").pressSequentially("TYPED-SECRET-13");
    await page.locator("#shadow-input").fill("SHADOW-TYPED-12"); // inside the masked host's open shadow root
    await page.locator("#pw").pressSequentially("Hunter3-before");
    await page.getByRole("button", { name: "Show password" }).click(); // type → text
    await page.locator("#pw").pressSequentially("-after-toggle");
    await page.locator("#city").pressSequentially("Springfield"); // an ordinary field: it must arrive
    await page.getByRole("button", { name: "Update profile" }).click(); // attributes, nodes and text changed by script
    await expect.poll(() => replayed(alice, "return doc.getElementById('city')?.value"), { timeout: 15_000 }).toBe("Springfield");
    await expect.poll(() => replayed(alice, "return doc.querySelectorAll('#profile span').length"), { timeout: 15_000 }).toBe(2);

    const planted = ["SECRET-1", "SECRET-2", "SECRET-3", "SECRET-4", "SECRET-5", "SECRET-6", "SECRET-7", "SECRET-8", "SECRET-9", "SHADOW-TITLE-10", "SHADOW-SECRET-10", "SHADOW-VALUE-11", "SHADOW-TYPED-12", "TYPED-SECRET-13", "SECRET-14", "LATE-TEXT-14", "CHANGE-15", "SHADOW-LATE-16", "CHANGE-17", "Hunter3", "after-toggle"];
    const inbound = server.inbound.slice(from).join("\n");
    expect(inbound).toContain("Springfield");
    for (const secret of planted) expect(inbound, secret).not.toContain(secret);
    // Masked text and typing show as one fixed mask: no run of mask dots of any other length.
    const dots = new Set(inbound.match(/•+/g) ?? []);
    expect([...dots]).toEqual(["••••••"]);
    // Nor is any of it in the agent's document.
    const agentDom = await replayed(alice, "return doc.documentElement.outerHTML + (doc.getElementById('host')?.shadowRoot?.innerHTML ?? '') + [...doc.querySelectorAll('input')].map((i) => i.value).join(' ')");
    for (const secret of planted) expect(agentDom, secret).not.toContain(secret);
    expect(await replayed(alice, "return doc.getElementById('pw').value")).toBe("••••••");
    expect(await replayed(alice, "return doc.getElementById('host')?.shadowRoot?.getElementById('shadow-text')?.textContent ?? null")).toBe("••••••");
  });

  it("the agent's browser asked no origin but the Glimpse server for anything, all session long, and logged nothing amiss", () => {
    expect(watch.blocked).toEqual([]);
    expect(watch.noise).toEqual([]);
  });
});
