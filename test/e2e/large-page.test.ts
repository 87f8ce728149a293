/**
 * Big pages: the snapshot is taken in slices (patches/rrweb+2.2.2.patch) and travels in pieces
 * under the server's message limit; what the page changes while the walk runs still ends up in the
 * agent's view exactly as the visitor has it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server";
import type { launchAgent, VisitorBrowser } from "../helpers/chromium";
import { startWorld, stopWorld } from "../helpers/world";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { clickUi } from "../helpers/ui";
import { CHURN_ROWS, ROWS_DIGEST } from "../helpers/big-page";

let server: TestServer;
let visitor: VisitorBrowser;
let agent: Awaited<ReturnType<typeof launchAgent>>;
const LIMIT = 600 * 1024;

beforeAll(async () => {
  const world = await startWorld({ config: { maxMessageBytes: LIMIT } });
  ({ server, visitor } = world);
  agent = world.agent!;
});

afterAll(() => stopWorld({ server, visitor, agent }));

describe("a large page", () => {
  it("arrives whole, in pieces each under the server's limit", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/big.html`);
    const key = await shareAndReadKey(page);
    const console = await signInAndJoin(agent.browser, server.url, "alice", "agent password 1", key);
    await expect.poll(() => replayed(console, "return doc.getElementById('row-19999')?.textContent"), { timeout: 30_000 }).toContain("row 19999");
    // The 1 MB log comes after the rows in the page, so in a later slice: wait for it too.
    const logLength = await page.evaluate(() => document.getElementById("log")!.textContent!.length);
    await expect.poll(() => replayed(console, "return doc.getElementById('log')?.textContent.length"), { timeout: 30_000 }).toBe(logLength);
    const sizes = server.relayed.map((text) => Buffer.byteLength(text));
    const total = sizes.reduce((a, b) => a + b, 0);
    process.stdout.write(`[e2e] big page: ${total} bytes relayed in ${sizes.length} messages, largest ${Math.max(...sizes)}\n`);
    expect(total).toBeGreaterThan(2 * LIMIT);
    expect(Math.max(...sizes)).toBeLessThan(LIMIT);
    // The walk sends a first part of the page, then its later slices as additions.
    const events = server.relayed.filter((text) => text.startsWith('{"t":"frames"')).flatMap((text) => (JSON.parse(text) as { events: { type: number; data?: { source?: number; adds?: unknown[] } }[] }).events);
    const snapshots = events.filter((event) => event.type === 2);
    expect(snapshots).toHaveLength(1);
    expect(JSON.stringify(snapshots[0])).not.toContain("row 19999");
    expect(events.filter((event) => event.type === 3 && event.data?.source === 0 && (event.data.adds?.length ?? 0) > 100).length).toBeGreaterThan(0);
    // One node bigger than the limit (the page's 1 MB log) still goes, as chunks.
    expect(server.relayed.some((text) => text.startsWith('{"t":"chunk"'))).toBe(true);
    await clickUi(page, "Stop sharing");
  });

  it("shows what the page changed while the agent joined: rows added, removed, moved and rewritten during the walk", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/big.html`);
    const key = await shareAndReadKey(page);
    // From now until told to stop, the page changes rows all over, every few milliseconds.
    await page.evaluate(CHURN_ROWS);
    const console = await signInAndJoin(agent.browser, server.url, "alice", "agent password 1", key);
    await expect.poll(() => replayed(console, "return doc.getElementById('rows')?.children.length ?? 0"), { timeout: 60_000 }).toBeGreaterThan(10_000);
    await page.evaluate("clearInterval(window.churn)");
    // The same rows, in the same order, with the same text and attributes.
    const visitorDigest = await page.evaluate(`((doc) => { ${ROWS_DIGEST} })(document)`);
    await expect.poll(() => replayed(console, ROWS_DIGEST), { timeout: 30_000 }).toBe(visitorDigest);
    await clickUi(page, "Stop sharing");
  });
});
