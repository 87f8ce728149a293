/** Debian's Chromium with the built extension loaded (playwright-core; see ../shared TOOLCHAIN). */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type BrowserContext, type Worker } from "playwright-core";

export const CHROMIUM = process.env.GLIMPSE_CHROMIUM ?? "/usr/bin/chromium";
export const CHROME_BUILD = resolve("build/chrome-mv3-prod");

const QUIET = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-gpu"];

export interface VisitorBrowser {
  context: BrowserContext;
  worker: Worker;
  extensionId: string;
  close(): Promise<void>;
}

export async function launchVisitor(): Promise<VisitorBrowser> {
  if (!existsSync(join(CHROME_BUILD, "manifest.json"))) throw new Error("build/chrome-mv3-prod is missing: run `npm run build` first");
  const dir = mkdtempSync(join(tmpdir(), "glimpse-visitor-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...QUIET, `--disable-extensions-except=${CHROME_BUILD}`, `--load-extension=${CHROME_BUILD}`],
  });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    worker,
    extensionId,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchAgent() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: QUIET });
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  return { browser, context, close: () => browser.close() };
}

/** Point the extension at a test server through its options page, as a support admin would. */
export async function configureExtension(browser: VisitorBrowser, settings: { serverUrl: string; groupId: string; sites: string[] }) {
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await page.getByLabel("Server URL").fill(settings.serverUrl);
  await page.getByLabel("Group ID").fill(settings.groupId);
  await page.getByLabel(/^Sites that show/).fill(settings.sites.join("\n"));
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.close();
}

/**
 * Stop the extension's service worker as Chrome does when it is idle, using the Stop control of
 * chrome://serviceworker-internals (CDP's ServiceWorker.stopAllWorkers does not reach extension
 * workers, and Playwright reports no "close" for them). Resolves once the page has shown STOPPED.
 *
 * The page is watched live, not reloaded: mid-session the recorder's port wakes the worker again
 * within ~200 ms, so on a busy machine a reload-and-read loop only ever saw RUNNING (Chromium 156
 * re-renders the page with lit on every status change, RUNNING → STOPPING → STOPPED → STARTING →
 * RUNNING). The returned check tells whether the worker now running is a new instance (its globals
 * are gone), which proves the stop was real; call it only once the worker is expected back, since
 * evaluating in the worker wakes it.
 */
export async function stopServiceWorker(browser: VisitorBrowser): Promise<{ freshInstance(): Promise<boolean> }> {
  const mark = `glimpse-${Date.now()}-${Math.random()}`;
  await browser.worker.evaluate(`globalThis.__glimpseTestMark = ${JSON.stringify(mark)}`);
  const internals = await browser.context.newPage();
  await internals.goto("chrome://serviceworker-internals/");
  const registration = internals.locator(".serviceworker-registration", { hasText: browser.extensionId });
  const stop = registration.locator('cr-button[data-command="stop"]').first();
  await stop.waitFor();
  // A string, not a function: tsx's name helpers do not exist in the page.
  await internals.evaluate(`(() => {
    const id = ${JSON.stringify(browser.extensionId)};
    const seen = (window.__glimpseStatuses = []);
    const read = () => {
      const registration = [...document.querySelectorAll(".serviceworker-registration")].find((r) => r.textContent.includes(id));
      const value = registration && registration.querySelector(".serviceworker-running-status .value");
      const text = value ? value.textContent.trim() : "";
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    };
    new MutationObserver(read).observe(document.body, { subtree: true, childList: true, characterData: true });
    read();
  })()`);
  await stop.click();
  // Polled with plain evaluations: waitForFunction compiles its predicate with `new Function`,
  // which chrome:// pages' CSP (no 'unsafe-eval') refuses whenever Playwright runs it in the main world.
  const deadline = Date.now() + 60_000;
  while (!(await internals.evaluate("window.__glimpseStatuses.includes('STOPPED')"))) {
    if (Date.now() > deadline) throw new Error(`service worker never showed STOPPED (seen: ${await internals.evaluate("window.__glimpseStatuses.join(' → ')")})`);
    await internals.waitForTimeout(50);
  }
  await internals.close();
  return {
    async freshInstance() {
      return (await browser.worker.evaluate("globalThis.__glimpseTestMark")) !== mark;
    },
  };
}
