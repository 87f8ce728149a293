/**
 * Two Glimpse nodes behind Debian's nginx (deploy/nginx-glimpse.conf) on one Redis, the built
 * extension in Chromium and the console in another, both only ever talking to nginx: a manual
 * session works whichever nodes their sockets land on, and goes on, same key, when the node that
 * owns it is lost; one-click works with the visitor's presence, the record and the session on
 * whichever nodes the balancer picks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configureExtension, launchAgent, launchVisitor, type VisitorBrowser } from "../helpers/chromium";
import { startBalancer, startCluster, type TestBalancer, type TestCluster } from "../helpers/cluster";
import { replayed, shareAndReadKey, signIn, signInAndJoin } from "../helpers/console";
import { answerTerms, clickUi, uiHas, uiText, waitForTerms, waitForTermsGone } from "../helpers/ui";

const PASSWORD = "agent password 1";
const VISITOR = "vera@example.com";
let cluster: TestCluster;
let balancer: TestBalancer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;

beforeAll(async () => {
  cluster = await startCluster(2, { GLIMPSE_TRUST_PROXY: "1" });
  await cluster.addAgent("demo", "alice", PASSWORD);
  await cluster.addAgent("demo", "bob", PASSWORD);
  balancer = await startBalancer(cluster.nodes);
  visitor = await launchVisitor();
  await configureExtension(visitor, { serverUrl: balancer.url, groupId: "demo", sites: [`${balancer.url}/demo/*`] });
  agent = await launchAgent();
});

afterAll(async () => {
  await visitor?.close();
  await agent?.close();
  await balancer?.close();
  await cluster?.close();
});

/** The node whose /healthz counts the session (its owner). */
async function owner() {
  for (const node of cluster.nodes) {
    const health = (await fetch(`${node.url}/healthz`).then((r) => r.json(), () => ({ sessions: 0 }))) as { sessions: number };
    if (health.sessions > 0) return node;
  }
  return null;
}

describe("two nodes behind nginx", () => {
  it("runs one-click through the balancer: online on the record, decline, accept, live view without a key", async () => {
    const context = await agent.browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const record = await signIn(await context.newPage(), balancer.url, "alice", PASSWORD);
    await record.goto(`${balancer.url}/console/#/visitor/${encodeURIComponent(VISITOR)}`);
    await record.reload();
    const presenceState = () => record.getByTestId("presence-state").textContent();
    const termsState = () => record.getByTestId("terms-state").textContent();
    await expect.poll(presenceState, { timeout: 15_000 }).toContain("Offline");

    const page = await visitor.context.newPage();
    await page.goto(`${balancer.url}/demo/login.html`);
    await page.locator("#email").fill(VISITOR);
    await page.locator("#password").fill("visitor password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(presenceState, { timeout: 20_000 }).toContain("Online · Verified");
    await page.getByRole("link", { name: "Products" }).click();
    await expect.poll(() => record.getByTestId("presence-page").textContent(), { timeout: 15_000 }).toContain("Demo Shop — Products");

    await record.getByRole("button", { name: "Start screen share" }).click();
    await waitForTerms(page);
    await expect.poll(termsState, { timeout: 15_000 }).toContain("sees the request");
    await answerTerms(page, "Decline");
    await expect.poll(termsState, { timeout: 15_000 }).toContain("declined");
    await waitForTermsGone(page);

    await record.getByRole("button", { name: "Start screen share" }).click();
    await answerTerms(page, "Accept");
    await expect.poll(() => replayed(record, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Products");
    await expect.poll(() => uiHas(page, "An agent is viewing"), { timeout: 15_000 }).toBe(true);
    expect(await uiText(page, "output.key")).toBeNull();
    await page.locator("#search").fill("throw");
    await expect.poll(() => replayed(record, "return doc.querySelector('#search')?.value"), { timeout: 15_000 }).toBe("throw");
    await clickUi(page, "Stop sharing");
    await expect.poll(() => record.getByText("The session ended: the visitor stopped sharing.").isVisible(), { timeout: 15_000 }).toBe(true);
    await page.close();
    await context.close();
  });
  it("shares a page to two agents through the balancer, and carries the session on, same key, when its node is lost", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${balancer.url}/demo/index.html`);
    const key = await shareAndReadKey(page);
    // Two agents: round robin puts their sockets on different nodes, one of them not the owner's.
    const alice = await signInAndJoin(agent.browser, balancer.url, "alice", PASSWORD, key);
    const bob = await signInAndJoin(agent.browser, balancer.url, "bob", PASSWORD, key);
    for (const console of [alice, bob]) await expect.poll(() => replayed(console, "return doc.querySelector('h1')?.textContent"), { timeout: 20_000 }).toBe("Products");
    await expect.poll(() => uiHas(page, "2 agents are viewing"), { timeout: 10_000 }).toBe(true);
    await page.locator("#search").fill("lamp");
    for (const console of [alice, bob]) await expect.poll(() => replayed(console, "return doc.querySelector('#search')?.value"), { timeout: 10_000 }).toBe("lamp");

    const lost = await owner();
    expect(lost).not.toBeNull();
    await lost!.kill();
    // The extension reconnects through nginx to the other node and resumes; the consoles rejoin.
    await page.locator("#search").fill("vase");
    for (const console of [alice, bob]) {
      await expect.poll(() => replayed(console, "return doc.querySelector('#search')?.value"), { timeout: 60_000 }).toBe("vase");
      expect(console.url()).toContain(key);
    }
    const survivor = cluster.nodes.find((n) => n !== lost)!;
    expect(await owner()).toBe(survivor);
    await expect.poll(() => uiHas(page, "2 agents are viewing"), { timeout: 20_000 }).toBe(true);
    await page.close();
  });
});
