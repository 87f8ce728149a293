/**
 * Firefox ESR parity: the manual and one-click flows with the built Firefox extension as the
 * visitor (event-page background), the agent console in Chromium.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "puppeteer-core";
import { relayedStrings, startServer, type TestServer } from "../helpers/server";
import { launchAgent } from "../helpers/chromium";
import { replayed, signInAndJoin } from "../helpers/console";
import { clickAt, wheelTo } from "../helpers/agent-view";
import { CHURN_ROWS, ROWS_DIGEST } from "../helpers/big-page";
import { answerTerms, clickUi, launchFirefoxVisitor, termsShown, uiText, shareAndReadKey, waitForUiText, type FirefoxVisitor } from "../helpers/firefox";

let server: TestServer;
let visitor: FirefoxVisitor;
let agent: Awaited<ReturnType<typeof launchAgent>>;
const PASSWORD = "agent password 1";
const SECRETS = { password: "Firefox-planted-pw", card: "5555555555554444" };
/** Shortened so the tests can idle past a login token's life and see a request expire. */
const TOKEN_LIFETIME_S = 5;
const REQUEST_TTL_MS = 15_000;

beforeAll(async () => {
  server = await startServer({ demoTokenTtlS: TOKEN_LIFETIME_S, tokenMaxAgeS: TOKEN_LIFETIME_S, requestTtlMs: REQUEST_TTL_MS });
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PASSWORD);
  visitor = await launchFirefoxVisitor({ serverUrl: server.url, groupId: "demo", sites: [`${server.url}/demo/*`] });
  agent = await launchAgent();
});

afterAll(async () => {
  await visitor?.close();
  await agent?.close();
  await server?.close();
});

const waitUi = (page: Page, text: string) => waitForUiText(page, text);

describe("Firefox ESR visitor", () => {
  it("shares manually: key → agent joins → typing and navigation show → masked values never relayed → stop", async () => {
    const page = await visitor.browser.newPage();
    await page.goto(`${server.url}/demo/index.html`);
    const key = await shareAndReadKey(page);

    const console = await signInAndJoin(agent.browser, server.url, "alice", PASSWORD, key);
    await waitUi(page, "An agent is viewing");
    await expect.poll(() => replayed(console, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await page.type("#search", "lamp");
    await expect.poll(() => replayed(console, "return doc.querySelector('#search')?.value"), { timeout: 10_000 }).toBe("lamp");

    await page.goto(`${server.url}/demo/checkout.html`);
    await expect.poll(() => replayed(console, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Checkout");
    await page.type("#fullname", "Fiona Firefox");
    await page.type("#cc-number", SECRETS.card);
    await page.goto(`${server.url}/demo/login.html`);
    await page.type("#password", SECRETS.password);
    await page.type("#email", "fiona@example.com");
    await expect.poll(() => replayed(console, "return doc.querySelector('#email')?.value"), { timeout: 10_000 }).toBe("fiona@example.com");
    const relayed = server.relayed.join("\n");
    expect(relayed).toContain("Fiona Firefox");
    // Every string the server relayed (rrweb's numbers — ids, timestamps — cannot carry typed text).
    const strings = relayedStrings(server);
    for (const secret of Object.values(SECRETS)) expect(strings.filter((s) => s.includes(secret))).toEqual([]);

    await clickUi(page, "Stop sharing");
    await expect.poll(() => console.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 10_000 }).toBe(true);
    await clickUi(page, "OK");
    await page.close();
  });

  it("runs the one-click flow: login → Online → Start screen share → Accept → live view, no key", async () => {
    const { record, page } = await loggedIn("fiona@example.com");

    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept", async () => (await record.getByTestId("terms-state").textContent())?.includes("sees the request") ?? false);
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Sign in");
    await waitUi(page, "An agent is viewing");
    expect(await uiText(page, "output.key")).toBeNull();

    await record.getByRole("button", { name: "End session" }).click();
    await waitUi(page, "The agent ended the session.");
    // Logout takes the visitor offline.
    await page.click("#account");
    await expect.poll(() => record.getByTestId("presence-state").textContent(), { timeout: 10_000 }).toContain("Offline");
    await page.close();
    await record.context().close();
  });

  it("one-click holds up: Cancel withdraws the dialog, an unanswered request expires, Accept works after idling past the token's life", async () => {
    const { record, page } = await loggedIn("felix@example.com");
    const termsState = () => record.getByTestId("terms-state").textContent();
    const dialogShown = () => termsShown(page);
    const displayed = async () => (await termsState())?.includes("sees the request") ?? false;

    await record.getByRole("button", { name: "Start screen share" }).click();
    await expect.poll(dialogShown, { timeout: 10_000 }).toBe(true);
    await record.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(dialogShown, { timeout: 10_000 }).toBe(false);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("withdrawn");

    await record.getByRole("button", { name: "Start screen share" }).click();
    await expect.poll(dialogShown, { timeout: 10_000 }).toBe(true);
    await expect.poll(dialogShown, { timeout: REQUEST_TTL_MS + 15_000 }).toBe(false);
    await expect.poll(termsState, { timeout: 10_000 }).toContain("expired");

    // By now the token the shop signed at login is older than the server accepts.
    await new Promise((resolve) => setTimeout(resolve, (TOKEN_LIFETIME_S + 1) * 1000));
    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept", displayed);
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Sign in");
    await waitUi(page, "An agent is viewing");
    await clickUi(page, "Stop sharing");
    await page.close();
    await record.context().close();
  });

  it("a big page changing while the agent joins ends in the agent's view as it is on the visitor's", async () => {
    const page = await visitor.browser.newPage();
    await page.goto(`${server.url}/demo/big.html`);
    const key = await shareAndReadKey(page);
    await page.evaluate(CHURN_ROWS);
    const console = await signInAndJoin(agent.browser, server.url, "alice", PASSWORD, key);
    await expect.poll(() => replayed(console, "return doc.getElementById('rows')?.children.length ?? 0"), { timeout: 60_000 }).toBeGreaterThan(10_000);
    await page.evaluate("clearInterval(window.churn)");
    const visitorDigest = await page.evaluate(`((doc) => { ${ROWS_DIGEST} })(document)`);
    await expect.poll(() => replayed(console, ROWS_DIGEST), { timeout: 30_000 }).toBe(visitorDigest);
    await clickUi(page, "Stop sharing");
    await page.close();
    await console.context().close();
  });

  it("remote control: Allow → the agent types and chooses in the Firefox visitor's page; a payment field stays out of reach; Stop control ends it", async () => {
    const page = await visitor.browser.newPage();
    await page.goto(`${server.url}/demo/checkout.html`);
    const key = await shareAndReadKey(page);
    const console = await signInAndJoin(agent.browser, server.url, "alice", PASSWORD, key);
    await expect.poll(() => replayed(console, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Checkout");
    const state = () => console.getByTestId("control-state").textContent({ timeout: 1_000 }).catch(() => null);

    await console.getByRole("button", { name: "Request control" }).click();
    await waitUi(page, "Allow alice to control this page?");
    await clickUi(page, "Allow");
    await expect.poll(state, { timeout: 15_000 }).toMatch(/^You control the visitor's page/);
    await waitUi(page, "alice is controlling this page");

    await clickAt(console, "#fullname");
    await console.getByTestId("control-editor").pressSequentially("Fiona Firefox");
    await expect.poll(() => page.$eval("#fullname", (el) => (el as HTMLInputElement).value), { timeout: 15_000 }).toBe("Fiona Firefox");
    await console.getByRole("button", { name: "Done" }).click();
    await clickAt(console, "#delivery");
    await console.getByTestId("control-editor").selectOption({ label: "Pick up in store" });
    await expect.poll(() => page.$eval("#delivery", (el) => (el as HTMLSelectElement).value), { timeout: 15_000 }).toBe("pickup");
    await console.getByRole("button", { name: "Done" }).click();

    await wheelTo(console, "#cc-number");
    await clickAt(console, "#cc-number");
    await console.getByTestId("control-editor").pressSequentially("4111");
    await expect.poll(() => console.getByTestId("live-notice").textContent({ timeout: 1_000 }).catch(() => null), { timeout: 15_000 }).toMatch(/^That field is masked/);
    expect(await page.$eval("#cc-number", (el) => (el as HTMLInputElement).value)).toBe("");

    await clickUi(page, "Stop control");
    await expect.poll(state, { timeout: 15_000 }).toBe("The visitor took control back.");
    await clickUi(page, "Stop sharing");
    await page.close();
    await console.context().close();
  });
});

/** Alice on the visitor's record in the console; the visitor logged in to the demo shop in Firefox, shown Online and Verified. */
async function loggedIn(visitorId: string) {
  const context = await agent.browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const record = await context.newPage();
  await record.goto(`${server.url}/console/`);
  await record.getByLabel("Username").fill("alice");
  await record.getByLabel("Password").fill(PASSWORD);
  await record.getByRole("button", { name: "Sign in" }).click();
  await record.goto(`${server.url}/console/#/visitor/${encodeURIComponent(visitorId)}`);

  const page = await visitor.browser.newPage();
  await page.goto(`${server.url}/demo/login.html`);
  await page.type("#email", visitorId);
  await page.click("button[type=submit]");
  await expect.poll(() => record.getByTestId("presence-state").textContent(), { timeout: 15_000 }).toContain("Online");
  expect(await record.getByTestId("presence-state").textContent()).toContain("Verified");
  return { record, page };
}
