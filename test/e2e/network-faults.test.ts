/**
 * A slow or broken network between the visitor's browser and the server (test/helpers/fault-proxy.ts
 * sits between the built extension and the real server; the agent's console connects directly):
 * the session carries on, both sides say what is happening, and what the visitor types reaches the
 * agent once and in order.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureExtension } from "../helpers/chromium";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { startFaultProxy, type FaultProxy } from "../helpers/fault-proxy";
import { clickUi, uiHas } from "../helpers/ui";
import { AGENT_PASSWORD, startWorld, stopWorld, type World } from "../helpers/world";

let world: World;
let proxy: FaultProxy;

beforeAll(async () => {
  // A 1 s heartbeat, so that the server notices a black hole within seconds (20 s by default).
  world = await startWorld({ config: { pingMs: 1000 } });
  proxy = await startFaultProxy(world.server.url);
  await configureExtension(world.visitor, { serverUrl: proxy.url, groupId: "demo", sites: [`${world.server.url}/demo/*`] });
});

afterAll(async () => {
  await proxy?.close();
  await stopWorld(world);
});

/** The demo shop shared through the proxy, and alice's console (direct) showing it. */
async function sharedAndWatched() {
  const page = await world.visitor.context.newPage();
  await page.goto(`${world.server.url}/demo/index.html`);
  const key = await shareAndReadKey(page);
  const alice = await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key);
  await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
  return { page, alice, from: world.server.relayed.length };
}

const visitorConnection = (alice: Page) => alice.getByTestId("visitor-connection").textContent();

/** The visitor types `keys` one by one; the agent's view ends showing `value` in the box. */
async function typeAndSee(page: Page, alice: Page, keys: string, value = keys) {
  await page.locator("#search").pressSequentially(keys, { delay: 40 });
  await expect.poll(() => replayed(alice, "return doc.querySelector('#search')?.value"), { timeout: 40_000 }).toBe(value);
}

/**
 * What the server relayed since `from`: frames in the order the visitor's extension numbered them
 * (none twice, none out of order), and the search box's typed values only growing.
 */
function expectOnceInOrder(from: number) {
  const seqs: number[] = [];
  const typed: string[] = [];
  for (const text of world.server.relayed.slice(from)) {
    const message = JSON.parse(text) as { t: string; seq?: number; events?: { type: number; data?: { source?: number; text?: unknown } }[] };
    if (message.t !== "frames") continue;
    seqs.push(message.seq!);
    for (const event of message.events ?? []) if (event.type === 3 && event.data?.source === 5 && typeof event.data.text === "string") typed.push(event.data.text);
  }
  expect(seqs.length).toBeGreaterThan(0);
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
  for (let i = 1; i < typed.length; i++) expect(typed[i]!.length).toBeGreaterThan(typed[i - 1]!.length);
}

async function stopSharing(page: Page, alice: Page) {
  await clickUi(page, "Stop sharing");
  await expect.poll(() => alice.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 15_000 }).toBe(true);
  await alice.close();
  await page.close();
}

describe("a slow or broken network between the visitor and the server (Chromium)", () => {
  it("a dropped connection, and the network down for a while: both sides say so, then the agent sees the page again", async () => {
    const { page, alice, from } = await sharedAndWatched();
    await typeAndSee(page, alice, "ch");
    proxy.refuse(true);
    proxy.drop();
    try {
      await expect.poll(() => visitorConnection(alice), { timeout: 15_000 }).toContain("reconnecting");
      await expect.poll(() => uiHas(page, "Reconnecting to the server"), { timeout: 15_000 }).toBe(true);
      // Typed while nothing gets through: the fresh snapshot after the resume carries it.
      await page.locator("#search").pressSequentially("ai", { delay: 40 });
    } finally {
      proxy.refuse(false);
    }
    await expect.poll(() => visitorConnection(alice), { timeout: 40_000 }).not.toContain("reconnecting");
    await expect.poll(() => uiHas(page, "Reconnecting to the server"), { timeout: 15_000 }).toBe(false);
    await typeAndSee(page, alice, "r", "chair");
    expectOnceInOrder(from);
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    await stopSharing(page, alice);
  });

  it("500 ms of latency each way: the view lags but everything arrives, once and in order", async () => {
    const { page, alice, from } = await sharedAndWatched();
    proxy.latency(500);
    try {
      await typeAndSee(page, alice, "lamp");
      expectOnceInOrder(from);
      expect(await visitorConnection(alice)).not.toContain("reconnecting");
    } finally {
      proxy.latency(0);
    }
    await stopSharing(page, alice);
  });

  it("a connection cut in the middle of a frame the visitor sends: the half frame is dropped, the session resumes", async () => {
    const { page, alice, from } = await sharedAndWatched();
    // A frames message (compressed typing is a few dozen bytes; a pong is under 20).
    const cut = proxy.cutNextUpload(40);
    await page.locator("#search").pressSequentially("sofa", { delay: 40 });
    await cut;
    await expect.poll(() => visitorConnection(alice), { timeout: 40_000 }).not.toContain("reconnecting");
    await typeAndSee(page, alice, " desk", "sofa desk");
    expectOnceInOrder(from);
    await stopSharing(page, alice);
  });

  it("a black hole (nothing passes, nothing closes) longer than the heartbeat: both sides say so, and the session resumes once the route is back", async () => {
    const { page, alice, from } = await sharedAndWatched();
    proxy.blackhole();
    try {
      await page.locator("#search").pressSequentially("rug", { delay: 40 });
      // The server stops hearing the visitor's answers to its pings and lets the socket go; the
      // extension stops hearing the pings and knows its socket is dead, though nothing closed it.
      await expect.poll(() => visitorConnection(alice), { timeout: 20_000 }).toContain("reconnecting");
      await expect.poll(() => uiHas(page, "Reconnecting to the server"), { timeout: 20_000 }).toBe(true);
    } finally {
      proxy.restore();
    }
    await expect.poll(() => visitorConnection(alice), { timeout: 40_000 }).not.toContain("reconnecting");
    await expect.poll(() => uiHas(page, "Reconnecting to the server"), { timeout: 15_000 }).toBe(false);
    await expect.poll(() => replayed(alice, "return doc.querySelector('#search')?.value"), { timeout: 20_000 }).toBe("rug");
    await typeAndSee(page, alice, "s", "rugs");
    expectOnceInOrder(from);
    await stopSharing(page, alice);
  });
});
