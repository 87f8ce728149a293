/**
 * A page that fights extensions (demo/hostile.html): it restyles, relabels, covers and clicks
 * Glimpse's UI. The UI stays as drawn, the page can never act for the visitor, and a visitor's click
 * on a covered or faded Accept does not share the screen.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { TestServer } from "../helpers/server";
import type { launchAgent, VisitorBrowser } from "../helpers/chromium";
import { signIn } from "../helpers/console";
import { answerTerms, clickUi, uiButton, uiMode, waitForKey, waitForTerms, waitForUiText } from "../helpers/ui";
import { AGENT_PASSWORD, startWorld, stopWorld } from "../helpers/world";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;

beforeAll(async () => {
  const world = await startWorld();
  ({ server, visitor } = world);
  agent = world.agent!;
});

afterAll(() => stopWorld({ server, visitor, agent }));

interface HostileWindow {
  glimpseAttack(label: string): { host: boolean; shadowRoot: string; caught: number; buttons: number; frames: number };
  glimpseRestyle(): boolean;
  glimpseCover(text: string): void;
  glimpseUncover(): void;
  glimpseFade(on: boolean): void;
}
const attack = (page: Page, label: string) => page.evaluate((l) => (window as unknown as HostileWindow).glimpseAttack(l), label);
const hostile = (page: Page, call: string) => page.evaluate(`window.${call}`);

const DRAWN = { fontSize: "14px", visibility: "visible", display: "inline-block", opacity: "1" };

describe("a hostile page", () => {
  it("cannot reach, restyle or press Glimpse's buttons, nor start a session by script", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/hostile.html`);
    await waitForUiText(page, "Share screen");
    expect(await uiMode(page)).toBe("closed");
    expect((await uiButton(page, "Share screen"))!.style).toEqual(DRAWN);

    // The page finds the host element but nothing inside it, even with attachShadow patched first.
    expect(await attack(page, "Share screen")).toEqual({ host: true, shadowRoot: "null", caught: 0, buttons: 0, frames: 0 });
    expect(await hostile(page, "glimpseRestyle()")).toBe(true);
    await expect.poll(() => page.evaluate(() => {
      const host = document.querySelector("glimpse-ui")!;
      const css = getComputedStyle(host);
      return { opacity: css.opacity, transform: css.transform, filter: css.filter, hidden: host.hasAttribute("hidden"), label: host.getAttribute("aria-label") };
    })).toEqual({ opacity: "1", transform: "none", filter: "none", hidden: false, label: null });
    expect((await uiButton(page, "Share screen"))!.style).toEqual(DRAWN);
    await page.waitForTimeout(1000); // what a script click would have started has had time to
    expect(server.app.hub.registry.size).toBe(0);

    // The visitor's own click works.
    await clickUi(page, "Share screen");
    await waitForKey(page);
    expect(server.app.hub.registry.size).toBe(1);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => server.app.hub.registry.size).toBe(0);
    await page.close();
  });

  it("a covered Share screen button says so and does not start a session", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/hostile.html`);
    await waitForUiText(page, "Share screen");
    await hostile(page, `glimpseCover("Click anywhere to continue")`);
    await expect.poll(async () => (await uiButton(page, "Share screen"))?.guard).toBe("obscured");
    await waitForUiText(page, "covered by the page");
    const covered = (await uiButton(page, "Share screen"))!;
    await page.mouse.click(covered.x, covered.y);
    await page.waitForTimeout(1000);
    expect(server.app.hub.registry.size).toBe(0);

    await hostile(page, "glimpseUncover()");
    await clickUi(page, "Share screen");
    await waitForKey(page);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => server.app.hub.registry.size).toBe(0);
    await page.close();
  });

  it("cannot read, relabel or accept a screen share request, nor trick the visitor into accepting it", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/hostile.html`);
    await page.evaluate(() => window.postMessage({ glimpse: 1, type: "initVisitor", visitorId: "hostile-visitor" }, location.origin));
    const record = await signIn(await (await agent.browser.newContext()).newPage(), server.url, "alice", AGENT_PASSWORD);
    await record.goto(`${server.url}/console/#/visitor/hostile-visitor`);
    await expect.poll(() => record.getByTestId("presence-state").textContent(), { timeout: 15_000 }).toContain("Online");
    await record.getByRole("button", { name: "Start screen share" }).click();
    // The dialog is an extension frame, loaded even though the page's CSP allows no frames.
    const terms = await waitForTerms(page);
    await expect.poll(() => record.getByTestId("terms-state").textContent(), { timeout: 10_000 }).toContain("sees the request");
    const dialog = terms.getByRole("dialog", { name: "Screen share request" });
    expect(await dialog.textContent()).toContain("alice from Group demo asks to see this tab");
    const accept = terms.getByRole("button", { name: "Accept" });

    // Script clicks reach nothing: no root, no buttons, and the frame is not in the page's DOM.
    expect(await attack(page, "Accept")).toEqual({ host: true, shadowRoot: "null", caught: 0, buttons: 0, frames: 0 });
    expect(await hostile(page, "glimpseRestyle()")).toBe(true);
    expect(await accept.evaluate((b) => ({ text: b.textContent, opacity: getComputedStyle(b).opacity }))).toEqual({ text: "Accept", opacity: "1" });

    // The page's own words over the dialog, clicks falling through: Accept does not act, and says why.
    await hostile(page, `glimpseCover("Click Accept to claim your coupon")`);
    await expect.poll(() => accept.getAttribute("data-guard")).toBe("obscured");
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain("covered by the page");
    const box = (await accept.boundingBox())!;
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await hostile(page, "glimpseUncover()");
    // A faded page (the dialog with it) is refused the same way.
    await expect.poll(() => accept.getAttribute("data-guard")).toBe("armed");
    await hostile(page, "glimpseFade(true)");
    await expect.poll(() => accept.getAttribute("data-guard")).toBe("obscured");
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(1000);
    expect(await record.getByTestId("terms-state").textContent()).toContain("sees the request");
    expect(server.app.hub.registry.size).toBe(0);
    // The page cannot reach into the extension either: no session API in its world.
    expect(await page.evaluate(() => typeof (window as unknown as { chrome?: { runtime?: { sendMessage?: unknown } } }).chrome?.runtime?.sendMessage)).not.toBe("function");

    // Uncovered and unfaded, the visitor's own click accepts.
    await hostile(page, "glimpseFade(false)");
    await answerTerms(page, "Accept");
    await expect.poll(() => server.app.hub.registry.size, { timeout: 15_000 }).toBe(1);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => server.app.hub.registry.size).toBe(0);
    await record.context().close();
    await page.close();
  });
});
