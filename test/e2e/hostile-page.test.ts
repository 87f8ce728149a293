/** A page that fights extensions: Glimpse's UI stays usable, and the page can never act for the visitor. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server";
import type { launchAgent, VisitorBrowser } from "../helpers/chromium";
import { startWorld, stopWorld } from "../helpers/world";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;

beforeAll(async () => {
  const world = await startWorld();
  ({ server, visitor } = world);
  agent = world.agent!;
});

afterAll(() => stopWorld({ server, visitor, agent }));

describe("a hostile page", () => {
  it("cannot hide or restyle Glimpse's UI, nor start a session by script", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/hostile.html`);
    const share = page.getByRole("button", { name: "Share screen" });
    await share.waitFor({ state: "visible", timeout: 15_000 });
    const style = await share.evaluate((b) => {
      const css = getComputedStyle(b);
      return { fontSize: css.fontSize, visibility: css.visibility, display: css.display };
    });
    expect(style).toEqual({ fontSize: "14px", visibility: "visible", display: "inline-block" });

    expect(await page.evaluate(() => (window as unknown as { glimpseAttack: (l: string) => string }).glimpseAttack("Share screen"))).toBe("clicked");
    await page.waitForTimeout(1000);
    expect(server.app.hub.registry.size).toBe(0);
    expect(await page.getByLabel("Session key").count()).toBe(0);

    // The visitor's own click works.
    await share.click();
    await page.getByLabel("Session key").waitFor({ timeout: 15_000 });
    expect(server.app.hub.registry.size).toBe(1);
    await page.getByRole("button", { name: "Stop sharing" }).click();
    await expect.poll(() => server.app.hub.registry.size).toBe(0);
    await page.close();
  });

  it("cannot accept a screen share request by script", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/hostile.html`);
    await page.evaluate(() => window.postMessage({ glimpse: 1, type: "initVisitor", visitorId: "hostile-visitor" }, location.origin));
    const context = await agent.browser.newContext();
    const record = await context.newPage();
    await record.goto(`${server.url}/console/`);
    await record.getByLabel("Username").fill("alice");
    await record.getByLabel("Password").fill("agent password 1");
    await record.getByRole("button", { name: "Sign in" }).click();
    await record.goto(`${server.url}/console/#/visitor/hostile-visitor`);
    await expect.poll(() => record.getByTestId("presence-state").textContent(), { timeout: 15_000 }).toContain("Online");
    await record.getByRole("button", { name: "Start screen share" }).click();
    const dialog = page.getByRole("dialog", { name: "Screen share request" });
    await dialog.waitFor({ timeout: 10_000 });
    expect(await page.evaluate(() => (window as unknown as { glimpseAttack: (l: string) => string }).glimpseAttack("Accept"))).toBe("clicked");
    await page.waitForTimeout(1000);
    expect(await dialog.isVisible()).toBe(true);
    expect(await record.getByTestId("terms-state").textContent()).toContain("sees the request");
    expect(server.app.hub.registry.size).toBe(0);
    // The page cannot reach into the extension either: no session API in its world.
    expect(await page.evaluate(() => typeof (window as unknown as { chrome?: { runtime?: { sendMessage?: unknown } } }).chrome?.runtime?.sendMessage)).not.toBe("function");
    await dialog.getByRole("button", { name: "Decline" }).click();
    await expect.poll(() => record.getByTestId("terms-state").textContent()).toContain("declined");
    await page.close();
  });
});
