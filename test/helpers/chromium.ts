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
 * workers, and Playwright reports no "close" for them). Resolves once the page says STOPPED.
 */
export async function stopServiceWorker(browser: VisitorBrowser) {
  const internals = await browser.context.newPage();
  await internals.goto("chrome://serviceworker-internals/");
  const registration = internals.locator(".serviceworker-registration", { hasText: browser.extensionId });
  await registration.locator('cr-button[data-command="stop"]').first().click();
  const deadline = Date.now() + 10_000;
  for (;;) {
    await internals.reload();
    if ((await registration.locator(".serviceworker-running-status .value").first().textContent()) === "STOPPED") break;
    if (Date.now() > deadline) throw new Error("the service worker did not stop");
    await internals.waitForTimeout(100);
  }
  await internals.close();
}

