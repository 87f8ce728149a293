/**
 * Two Glimpse nodes behind Debian's nginx (deploy/nginx-glimpse.conf) on one Redis and one
 * PostgreSQL database (Debian's, as nodes on several hosts run), the built
 * extension in Chromium and the console in another, both only ever talking to nginx: a manual
 * session works whichever nodes their sockets land on, and goes on, same key, when the node that
 * owns it is lost; one-click works with the visitor's presence, the record and the session on
 * whichever nodes the balancer picks; 2,000 scripted visitors spread over both show online.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { configureExtension, launchAgent, launchVisitor, type VisitorBrowser } from "../helpers/chromium";
import { startBalancer, startCluster, type TestBalancer, type TestCluster } from "../helpers/cluster";
import { startPostgres, type TestPostgres } from "../helpers/postgres";
import { replayed, shareAndReadKey, signIn, signInAndJoin } from "../helpers/console";
import { TEST_EXTENSION_ORIGIN } from "../helpers/server";
import { answerTerms, clickUi, uiHas, uiText, waitForTerms, waitForTermsGone } from "../helpers/ui";

const PASSWORD = "agent password 1";
const VISITOR = "vera@example.com";
const METRICS_TOKEN = "multinode-test";
let postgres: TestPostgres;
let cluster: TestCluster;
let balancer: TestBalancer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;

beforeAll(async () => {
  // 2,000 scripted visitors come through nginx, so from one address as the nodes see it.
  postgres = await startPostgres();
  cluster = await startCluster(2, { GLIMPSE_TRUST_PROXY: "1", GLIMPSE_MAX_CONNECTIONS_PER_IP: "5000", GLIMPSE_METRICS_TOKEN: METRICS_TOKEN }, postgres);
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
  await postgres?.stop();
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
  it("shows 2,000 scripted visitors, spread over both nodes by the balancer, online to a console on either", async () => {
    const sockets: WebSocket[] = [];
    let welcomed = 0;
    const wsUrl = `${balancer.url.replace("http", "ws")}/ws/visitor?role=presence`;
    try {
      for (let i = 0; i < 2_000; i++) {
        const socket = new WebSocket(wsUrl, { headers: { Origin: TEST_EXTENSION_ORIGIN } });
        socket.on("open", () => socket.send(JSON.stringify({ t: "hello", v: 1, groupId: "demo", client: "test", role: "presence", visitorId: `crowd-${i}` })));
        socket.on("message", (data) => {
          const text = data.toString();
          if (text.startsWith('{"t":"welcome"')) {
            welcomed++;
            socket.send(JSON.stringify({ t: "presence", url: `${balancer.url}/demo/crowd-${i}`, title: `Crowd ${i}`, visible: true }));
          } else if (text === '{"t":"ping"}') socket.send('{"t":"pong"}');
        });
        socket.on("error", () => undefined);
        sockets.push(socket);
        if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await expect.poll(() => welcomed, { timeout: 60_000, interval: 250 }).toBe(2_000);
      // Both nodes hold some of them (round robin), together all of them (and the earlier test's
      // visitor, whose presence may linger while its browser has the site open).
      const online = await Promise.all(
        cluster.nodes.map(async (node) => {
          const text = await (await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text();
          return Number(/^glimpse_presence_visitors (\d+)/m.exec(text)?.[1] ?? 0);
        }),
      );
      expect(Math.min(...online)).toBeGreaterThan(0);
      expect(online[0]! + online[1]!).toBeGreaterThanOrEqual(2_000);

      const context = await agent.browser.newContext({ viewport: { width: 1400, height: 1000 } });
      const record = await signIn(await context.newPage(), balancer.url, "bob", PASSWORD);
      for (const n of [0, 1, 999, 1_998, 1_999]) {
        await record.goto(`${balancer.url}/console/#/visitor/crowd-${n}`);
        await record.reload();
        await expect.poll(() => record.getByTestId("presence-state").textContent(), { timeout: 15_000 }).toContain("Online");
        await expect.poll(() => record.getByTestId("presence-page").textContent(), { timeout: 15_000 }).toContain(`Crowd ${n}`);
      }
      await context.close();
    } finally {
      for (const socket of sockets) socket.terminate();
    }
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
