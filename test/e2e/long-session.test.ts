/**
 * A session with an idle visitor page and a watching agent outlives the browsers' 30 s idle
 * limits (Chrome's service worker, Firefox's event page), with no reconnect on the way, and the
 * agent still sees the next change. Idle time: GLIMPSE_SOAK_MS (default 2 minutes; raise it for
 * a longer soak, e.g. GLIMPSE_SOAK_MS=1800000 npm run test:e2e -- long-session).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agent as agentClient, startServer, type Client, type TestServer } from "../helpers/server";
import { configureExtension, launchVisitor, type VisitorBrowser } from "../helpers/chromium";
import { shareAndReadKey } from "../helpers/console";
import { clickUi, launchFirefoxVisitor, waitForKey, type FirefoxVisitor } from "../helpers/firefox";

const IDLE_MS = Number(process.env.GLIMPSE_SOAK_MS ?? 120_000);
let server: TestServer;
let chrome: VisitorBrowser;
let firefox: FirefoxVisitor;

beforeAll(async () => {
  server = await startServer();
  server.addGroup("demo");
  await server.addAgent("demo", "alice", "agent password 1");
  const policy = { serverUrl: server.url, groupId: "demo", sites: [`${server.url}/demo/*`] };
  chrome = await launchVisitor();
  await configureExtension(chrome, policy);
  firefox = await launchFirefoxVisitor(policy);
});

afterAll(async () => {
  await chrome?.close();
  await firefox?.close();
  await server?.close();
});

/** Share on a visitor page (each engine its own way), then join as an agent and wait for the snapshot. */
async function share(readKey: () => Promise<string>): Promise<{ key: string; watcher: Client }> {
  const key = await readKey();
  const watcher = await agentClient(server, "alice", "agent password 1");
  watcher.send({ t: "join", key });
  await watcher.next("joined");
  await watcher.next("frames", (m) => (m.events as { type: number }[]).some((e) => e.type === 2), 15_000);
  return { key, watcher };
}

const typed = (text: string) => (m: { t: string; [k: string]: unknown }) =>
  (m.events as { type: number; data?: { source?: number; text?: string } }[]).some((e) => e.type === 3 && e.data?.source === 5 && e.data.text === text);

describe(`a session idle for ${Math.round(IDLE_MS / 1000)} s`, () => {
  it(
    "stays connected in Chromium and Firefox, and the agent sees the next change",
    async () => {
      const chromePage = await chrome.context.newPage();
      await chromePage.goto(`${server.url}/demo/index.html`);
      const firefoxPage = await firefox.browser.newPage();
      await firefoxPage.goto(`${server.url}/demo/index.html`);
      const inChrome = await share(() => shareAndReadKey(chromePage));
      const inFirefox = await share(async () => {
        await clickUi(firefoxPage, "Share screen");
        return waitForKey(firefoxPage);
      });

      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));

      await chromePage.locator("#search").fill("after the wait");
      await firefoxPage.type("#search", "after the wait");
      await inChrome.watcher.next("frames", typed("after the wait"), 15_000);
      await inFirefox.watcher.next("frames", typed("after the wait"), 15_000);
      // Not once did either visitor's connection drop during the wait.
      for (const { watcher } of [inChrome, inFirefox]) {
        expect(watcher.received.filter((m) => m.t === "visitorConnection")).toEqual([]);
        expect(watcher.received.filter((m) => m.t === "sessionEnded")).toEqual([]);
        watcher.close();
      }
    },
    IDLE_MS + 120_000,
  );
});
