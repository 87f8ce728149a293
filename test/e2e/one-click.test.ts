/**
 * The one-click flow with real parts: the demo shop logs in and tells the extension who the
 * visitor is (page bridge + signed token); the agent on the visitor's record starts a session.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { TestServer } from "../helpers/server";
import { stopServiceWorker, type launchAgent, type VisitorBrowser } from "../helpers/chromium";
import { AGENT_PASSWORD, startWorld, stopWorld } from "../helpers/world";
import { replayed, shareAndReadKey, signIn, signInAndJoin } from "../helpers/console";
import { Client } from "../helpers/server";
import { answerTerms, clickUi, termsText, uiHas, uiText, waitForTerms, waitForTermsGone } from "../helpers/ui";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;
let record: Page;
const PASSWORD = AGENT_PASSWORD;
const VISITOR = "vera@example.com";
/** Short enough that a test can idle past them (see "accepts after the visitor idled…"). */
const TOKEN_LIFETIME_S = 5;
const REQUEST_TTL_MS = 15_000;

beforeAll(async () => {
  const world = await startWorld({ agents: ["alice", "bob"], config: { demoTokenTtlS: TOKEN_LIFETIME_S, tokenMaxAgeS: TOKEN_LIFETIME_S, requestTtlMs: REQUEST_TTL_MS } });
  ({ server, visitor } = world);
  agent = world.agent!;
  const context = await agent.browser.newContext({ viewport: { width: 1400, height: 1000 } });
  record = await context.newPage();
  await record.goto(`${server.url}/console/`);
  await record.getByLabel("Username").fill("alice");
  await record.getByLabel("Password").fill(PASSWORD);
  await record.getByRole("button", { name: "Sign in" }).click();
  await record.getByRole("link", { name: "Visitor lookup" }).waitFor();
});

// Each test starts on a freshly loaded record, so one failure cannot leave the next in a live view.
beforeEach(async () => {
  await record.goto(`${server.url}/console/#/visitor/${encodeURIComponent(VISITOR)}`);
  await record.reload();
  await record.getByTestId("presence-state").waitFor();
});

// …and closes the visitor's tabs it opened, so a tab left on the site by a failure cannot keep
// the visitor online or take the next test's dialog.
let visitorTabs = new Set<Page>();
beforeEach(() => { visitorTabs = new Set(visitor.context.pages()); });
afterEach(async () => {
  for (const tab of visitor.context.pages()) if (!visitorTabs.has(tab)) await tab.close();
});

afterAll(() => stopWorld({ server, visitor, agent }));

const presenceState = () => record.getByTestId("presence-state").textContent();
const termsState = () => record.getByTestId("terms-state").textContent();

async function logIn(page: Page) {
  await page.goto(`${server.url}/demo/login.html`);
  await page.locator("#email").fill(VISITOR);
  await page.locator("#password").fill("visitor password");
  await page.getByRole("button", { name: "Sign in" }).click();
}

describe("one-click screen share in Chromium", () => {
  it("runs login → online → decline → accept → live view without a key, and the manual key still works", async () => {
    expect(await presenceState()).toContain("Offline");
    const page = await visitor.context.newPage();
    await logIn(page);

    // Presence: online, on the login page, verified by the token the shop signed.
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Online");
    expect(await presenceState()).toContain("Online · Verified");
    await expect.poll(() => record.getByTestId("presence-page").textContent(), { timeout: 10_000 }).toContain("Sign in — Demo Shop");
    await page.getByRole("link", { name: "Products" }).click();
    await expect.poll(() => record.getByTestId("presence-page").textContent(), { timeout: 10_000 }).toContain("Demo Shop — Products");

    // First request: displayed, then declined; the console stops waiting.
    await record.getByRole("button", { name: "Start screen share" }).click();
    await waitForTerms(page);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("sees the request");
    await answerTerms(page, "Decline");
    await expect.poll(termsState, { timeout: 10_000 }).toContain("declined");
    await waitForTermsGone(page);

    // Second request, accepted: the agent's view shows the page; the visitor never sees a key.
    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await expect.poll(() => uiHas(page, "An agent is viewing"), { timeout: 10_000 }).toBe(true);
    expect(await uiText(page, "output.key")).toBeNull();
    await page.locator("#search").fill("throw");
    await expect.poll(() => replayed(record, "return doc.querySelector('#search')?.value"), { timeout: 10_000 }).toBe("throw");

    // Stopped mid-session, the background resumes it by itself.
    const stopped = await stopServiceWorker(visitor);
    await page.locator("#search").fill("sage throw");
    await expect.poll(() => replayed(record, "return doc.querySelector('#search')?.value"), { timeout: 20_000 }).toBe("sage throw");
    expect(await stopped.freshInstance()).toBe(true);

    await clickUi(page, "Stop sharing");
    await expect.poll(() => record.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 10_000 }).toBe(true);
    await clickUi(page, "OK");

    // While logged in, Share screen still gives a key, and the key works.
    const key = await shareAndReadKey(page);
    expect(key).toMatch(/^\d{6}$/);
    const bob = await signInAndJoin(agent.browser, server.url, "bob", PASSWORD, key);
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await clickUi(page, "Stop sharing");
    await expect.poll(() => bob.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 10_000 }).toBe(true);
    await page.close();
  });

  it("brings presence back by itself after the service worker is stopped", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/index.html`);
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Online");
    const stopped = await stopServiceWorker(visitor);
    // The presence socket dies with the worker; the page's port reconnects, which wakes it.
    await expect.poll(presenceState, { timeout: 20_000 }).toContain("Online");
    expect(await stopped.freshInstance()).toBe(true);
    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Decline");
    await expect.poll(termsState, { timeout: 10_000 }).toContain("declined");
    await page.close();
  });

  it("goes Offline on logout, and when the last tab of the site closes", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/index.html`);
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Online");
    await page.getByRole("link", { name: /Sign out/ }).click();
    // Logout is signalled at once; the limit is generous only for a busy machine.
    await expect.poll(presenceState, { timeout: 20_000 }).toContain("Offline");

    await logIn(page);
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Online");
    await page.close();
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Offline");
  });

  /** The visitor logged in on the products page, online on the record. */
  async function visitorOnline(): Promise<Page> {
    const page = await visitor.context.newPage();
    await logIn(page);
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Online · Verified");
    await page.getByRole("link", { name: "Products" }).click();
    await expect.poll(() => record.getByTestId("presence-page").textContent(), { timeout: 10_000 }).toContain("Products");
    return page;
  }

  it("accepts after the visitor idled past the login token's lifetime", async () => {
    const page = await visitorOnline();
    // Idle on the page until the token the shop signed at login is older than the server accepts.
    await new Promise((resolve) => setTimeout(resolve, (TOKEN_LIFETIME_S + 1) * 1000));
    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await clickUi(page, "Stop sharing");
    await page.close();
  });

  it("withdraws the dialog on Cancel (it cannot be accepted after), and expires an unanswered request on both sides", async () => {
    const page = await visitorOnline();
    await record.getByRole("button", { name: "Start screen share" }).click();
    await waitForTerms(page);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("sees the request");
    await record.getByRole("button", { name: "Cancel" }).click();
    await waitForTermsGone(page);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("withdrawn");
    expect(await record.getByRole("button", { name: "Start screen share" }).isEnabled()).toBe(true);

    // Asked again and left unanswered: it expires for the visitor and the agent alike.
    await record.getByRole("button", { name: "Start screen share" }).click();
    await waitForTerms(page);
    await waitForTermsGone(page, REQUEST_TTL_MS + 15_000);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("expired");
    expect(await record.getByTestId("agent-view").count()).toBe(0);
    await page.close();
  });

  it("keeps two agents' requests apart: the dialog names the asker, a decline ends only that request, only the accepted request's agent joins", async () => {
    const page = await visitorOnline();
    const bob = await signIn(await (await agent.browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage(), server.url, "bob", PASSWORD);
    await bob.goto(`${server.url}/console/#/visitor/${encodeURIComponent(VISITOR)}`);
    await expect.poll(() => bob.getByTestId("presence-state").textContent(), { timeout: 15_000 }).toContain("Online");

    await record.getByRole("button", { name: "Start screen share" }).click();
    await expect.poll(() => termsText(page), { timeout: 10_000 }).toContain("alice");
    // Bob sees that Alice asked, and cannot ask over her.
    await expect.poll(() => bob.getByTestId("terms-state").textContent(), { timeout: 10_000 }).toContain("alice has asked");
    expect(await bob.getByRole("button", { name: "Start screen share" }).isDisabled()).toBe(true);
    await answerTerms(page, "Decline");
    await expect.poll(termsState, { timeout: 10_000 }).toContain("declined");

    await expect.poll(() => bob.getByRole("button", { name: "Start screen share" }).isEnabled(), { timeout: 10_000 }).toBe(true);
    await bob.getByRole("button", { name: "Start screen share" }).click();
    await expect.poll(() => termsText(page), { timeout: 10_000 }).toContain("bob");
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    expect(await record.getByTestId("agent-view").count()).toBe(0);
    await clickUi(page, "Stop sharing");
    await bob.context().close();
    await page.close();
  });

  it("carries on when the console reloads mid-request and mid-session, and when the worker stops while the dialog is shown", async () => {
    const page = await visitorOnline();
    await record.getByRole("button", { name: "Start screen share" }).click();
    await waitForTerms(page);
    await record.reload();
    await expect.poll(termsState, { timeout: 15_000 }).toContain("sees the request");

    // The worker stops while the dialog is on screen; the visitor answers to the next instance,
    // which knows the request only from storage.session.
    const stopped = await stopServiceWorker(visitor);
    expect(await stopped.freshInstance()).toBe(true);
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 30_000 }).toBe("Products");

    await record.reload();
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Products");
    await page.locator("#search").fill("after reload");
    await expect.poll(() => replayed(record, "return doc.querySelector('#search')?.value"), { timeout: 15_000 }).toBe("after reload");
    await clickUi(page, "Stop sharing");
    await page.close();
  });

  it("does not let a script with the visitor's ID and no token take over their presence; a visitor socket without Origin is refused", async () => {
    const page = await visitorOnline();
    const impostor = await Client.open(`${server.wsUrl}/ws/visitor`);
    impostor.send({ t: "hello", v: 1, groupId: "demo", client: "impostor", visitorId: VISITOR, role: "presence" });
    expect(await impostor.next("error")).toMatchObject({ code: "VISITOR_VERIFIED_ELSEWHERE" });
    expect(await presenceState()).toContain("Online · Verified");
    const session = await Client.open(`${server.wsUrl}/ws/visitor`);
    session.send({ t: "hello", v: 1, groupId: "demo", client: "impostor", visitorId: VISITOR, role: "session" });
    await session.next("welcome");
    session.send({ t: "startSession", keyType: "visitor", site: "https://evil.test" });
    expect(await session.next("error")).toMatchObject({ code: "TICKET_INVALID" });
    const bare = await Client.open(`${server.wsUrl}/ws/visitor`, { Origin: "" });
    expect(await bare.next("error")).toMatchObject({ code: "ORIGIN_REQUIRED" });
    for (const client of [impostor, session, bare]) client.close();

    // The real visitor is still the one asked, and the agent joins the real session.
    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await clickUi(page, "Stop sharing");
    await page.close();
  });
});
