/** Ending from the agent's side, late joiners, the popup, an unreachable server, a killed service worker, a server restart. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server";
import { configureExtension, stopServiceWorker, type launchAgent, type VisitorBrowser } from "../helpers/chromium";
import { AGENT_PASSWORD, startWorld, stopWorld } from "../helpers/world";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { clickUi, uiButton, uiHas } from "../helpers/ui";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;
const PASSWORD = AGENT_PASSWORD;

beforeAll(async () => {
  const world = await startWorld({ agents: ["alice", "bob"] });
  ({ server, visitor } = world);
  agent = world.agent!;
});

afterAll(() => stopWorld({ server, visitor, agent }));

const useServer = (url = server.url) => configureExtension(visitor, { serverUrl: url, groupId: "demo", sites: [`${server.url}/demo/*`] });

/** The demo shop's product list shared, and alice's console showing it. */
async function aliceWatchesProducts() {
  await useServer();
  const page = await visitor.context.newPage();
  await page.goto(`${server.url}/demo/index.html`);
  const key = await shareAndReadKey(page);
  const alice = await signInAndJoin(agent.browser, server.url, "alice", PASSWORD, key);
  await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
  return { page, key, alice };
}

describe("session lifecycle in Chromium", () => {
  it("shows the same key in the popup, lets a late agent see the page at once, and ends from the agent's side", async () => {
    await useServer();
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/product-lamp.html`);
    const key = await shareAndReadKey(page);

    const popup = await visitor.context.newPage();
    await popup.goto(`chrome-extension://${visitor.extensionId}/popup.html`);
    expect((await popup.getByLabel("Session key").textContent())!.replace(/\s/g, "")).toBe(key);
    await expect.poll(() => popup.getByText("Waiting for an agent to join…").isVisible()).toBe(true);

    const alice = await signInAndJoin(agent.browser, server.url, "alice", PASSWORD, key);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Terracotta lamp");
    await page.locator("#qty").fill("3");
    await expect.poll(() => replayed(alice, "return doc.querySelector('#qty')?.value"), { timeout: 10_000 }).toBe("3");

    // A second agent joining late gets a fresh full snapshot, including the current input value.
    const bob = await signInAndJoin(agent.browser, server.url, "bob", PASSWORD, key);
    await expect.poll(() => replayed(bob, "return doc.querySelector('#qty')?.value"), { timeout: 15_000 }).toBe("3");
    await expect.poll(() => uiHas(page, "2 agents are viewing"), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => popup.getByText("2 agents are viewing").isVisible(), { timeout: 10_000 }).toBe(true);

    await alice.getByRole("button", { name: "End session" }).click();
    await expect.poll(() => uiHas(page, "The agent ended the session."), { timeout: 10_000 }).toBe(true);
    await expect.poll(() => bob.getByText("The session ended: an agent ended it.").isVisible(), { timeout: 10_000 }).toBe(true);

    // The popup's history records it.
    await popup.reload();
    const history = popup.getByRole("region", { name: "Recent sessions" });
    await expect.poll(() => history.textContent()).toContain(key);
    expect(await history.textContent()).toContain("alice, bob");
    expect(await history.textContent()).toContain("The agent ended the session.");

    await clickUi(page, "OK");
    await expect.poll(() => uiButton(page, "Share screen").then((b) => b !== null)).toBe(true);
    await page.close();
    await popup.close();
  });

  it("carries a live session on when the service worker is stopped", async () => {
    const { page, alice } = await aliceWatchesProducts();

    const stopped = await stopServiceWorker(visitor);

    // It comes back by itself (woken by the recorder's port), resumes the session with the server,
    // and the visitor's typing reaches the agent again — which needs the background to relay it.
    await page.locator("#search").fill("chair");
    await expect.poll(() => replayed(alice, "return doc.querySelector('#search')?.value"), { timeout: 20_000 }).toBe("chair");
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    expect(server.app.hub.registry.size).toBe(1);
    // A new worker instance did that: the stop was real, not only reported.
    expect(await stopped.freshInstance()).toBe(true);
    // …and Stop still works.
    await clickUi(page, "Stop sharing");
    await expect.poll(() => alice.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 10_000 }).toBe(true);
    await page.close();
  });

  it("carries a live session on through a server restart: the same key, and the agent sees the page again", async () => {
    const { page, key, alice } = await aliceWatchesProducts();

    // SIGTERM and a new process on the same database, as an upgrade or a crash-restart does.
    await server.restart();
    // Both come back by themselves: the extension resumes the session, the console rejoins the key,
    // and the visitor's typing after the restart reaches the agent on a fresh snapshot.
    await page.locator("#search").fill("lamp");
    await expect.poll(() => replayed(alice, "return doc.querySelector('#search')?.value"), { timeout: 40_000 }).toBe("lamp");
    await expect.poll(() => alice.getByTestId("visitor-connection").textContent(), { timeout: 10_000 }).not.toContain("reconnecting");
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    expect(alice.url()).toContain(key);
    const popup = await visitor.context.newPage();
    await popup.goto(`chrome-extension://${visitor.extensionId}/popup.html`);
    expect((await popup.getByLabel("Session key").textContent())!.replace(/\s/g, "")).toBe(key);
    await popup.close();

    await clickUi(page, "Stop sharing");
    await expect.poll(() => alice.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 10_000 }).toBe(true);
    expect(server.store.liveSessions()).toEqual([]);
    await page.close();
  });

  it("says so on the page when the server cannot be reached, instead of failing silently", async () => {
    await useServer("http://127.0.0.1:9"); // nothing listens on the discard port
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/index.html`);
    await expect.poll(() => uiHas(page, "Screen share is unavailable."), { timeout: 15_000 }).toBe(true);
    expect(await uiHas(page, "The Glimpse server cannot be reached")).toBe(true);
    expect(await uiButton(page, "Share screen")).toBeNull();
    await page.close();
    await useServer();
  });

  it("shows no button and sends nothing on sites the team did not configure", async () => {
    await useServer();
    const before = server.relayed.length;
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/healthz`);
    await page.waitForTimeout(500);
    expect(await page.locator("glimpse-ui").count()).toBe(0);
    expect(server.relayed.length).toBe(before);
    await page.close();
  });
});
