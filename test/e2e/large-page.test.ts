/** A page whose snapshot is far larger than the server's message limit still reaches the agent. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server";
import type { launchAgent, VisitorBrowser } from "../helpers/chromium";
import { startWorld, stopWorld } from "../helpers/world";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { clickUi } from "../helpers/ui";

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
    const sizes = server.relayed.map((text) => Buffer.byteLength(text));
    const total = sizes.reduce((a, b) => a + b, 0);
    process.stdout.write(`[e2e] big page: ${total} bytes relayed in ${sizes.length} messages, largest ${Math.max(...sizes)}\n`);
    expect(total).toBeGreaterThan(2 * LIMIT);
    expect(Math.max(...sizes)).toBeLessThan(LIMIT);
    expect(server.relayed.some((text) => text.startsWith('{"t":"chunk"'))).toBe(true);
    await clickUi(page, "Stop sharing");
  });
});
