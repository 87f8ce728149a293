/**
 * Privacy, checked on the server: what the extension sends before the visitor's click, and that
 * a support team's own masking rule (options page) keeps a field's values in the page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { relayedStrings, type TestServer } from "../helpers/server";
import type { VisitorBrowser } from "../helpers/chromium";
import { startWorld, stopWorld } from "../helpers/world";
import { shareAndReadKey } from "../helpers/console";
import { clickUi } from "../helpers/ui";
import { agent as agentClient } from "../helpers/server";

let server: TestServer;
let visitor: VisitorBrowser;

beforeAll(async () => {
  ({ server, visitor } = await startWorld({ agentBrowser: false }));
});

afterAll(() => stopWorld({ server, visitor }));

const types = () => server.inbound.map((text) => (JSON.parse(text) as { t: string }).t);

describe("privacy", () => {
  it("sends nothing of the page before Share; after login only presence (URL, title), never content", async () => {
    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/index.html`);
    await page.locator("#search").fill("private search");
    await page.goto(`${server.url}/demo/checkout.html`);
    await page.locator("#fullname").fill("Private Person");
    await page.waitForTimeout(1000);
    expect(server.inbound).toEqual([]);

    // Logged in (the site linked the visitor): presence reports where, never what.
    await page.evaluate(() => window.postMessage({ glimpse: 1, type: "initVisitor", visitorId: "priv-1" }, location.origin));
    await expect.poll(() => types().includes("presence"), { timeout: 10_000 }).toBe(true);
    await page.locator("#address").fill("1 Private Road");
    await page.waitForTimeout(500);
    expect(new Set(types())).toEqual(new Set(["hello", "presence"]));
    expect(server.inbound.join("\n")).not.toContain("Private");

    await page.evaluate(() => window.postMessage({ glimpse: 1, type: "logout" }, location.origin));
    await page.close();
  });

  it("masks what a site rule says, as well as the built-in fields", async () => {
    // The support team adds a rule in the options page: mask the address on the demo shop.
    const options = await visitor.context.newPage();
    await options.goto(`chrome-extension://${visitor.extensionId}/options.html`);
    await options.getByRole("button", { name: "Add rule" }).click();
    await options.getByLabel("Rule 1 site pattern").fill(`${server.url}/demo/*`);
    await options.getByLabel("Rule 1 selector, cookie or key").fill("#account-id");
    await options.getByLabel("Rule 1 extra masked selectors").fill("#address, .never-sent");
    await options.getByRole("button", { name: "Save" }).click();
    await options.getByText("Saved.").waitFor();
    await options.close();

    const page = await visitor.context.newPage();
    await page.goto(`${server.url}/demo/checkout.html`);
    const key = await shareAndReadKey(page);
    // Shared, but no agent yet: the page is not even recorded until one joins.
    await page.locator("#fullname").fill("Before Anyone Joined");
    await page.waitForTimeout(500);
    expect(types().filter((t) => t === "frames" || t === "chunk" || t === "page")).toEqual([]);
    const watcher = await agentClient(server, "alice", "agent password 1");
    watcher.send({ t: "join", key });
    await watcher.next("joined");
    await page.locator("#address").fill("42 Rule Street");
    await page.locator("#fullname").fill("Visible Name");
    await expect.poll(() => relayedStrings(server).includes("Visible Name"), { timeout: 10_000 }).toBe(true);
    expect(relayedStrings(server).filter((s) => s.includes("Rule Street"))).toEqual([]);
    watcher.close();
    await clickUi(page, "Stop sharing");
    await page.close();
  });
});
