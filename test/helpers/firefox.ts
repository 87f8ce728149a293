/**
 * Firefox ESR with the built extension (puppeteer-core over WebDriver BiDi, see ../shared
 * TOOLCHAIN). BiDi cannot open moz-extension:// pages, so the extension is configured the way an
 * organisation would: a managed-storage manifest (enterprise policy) in the profile's $HOME.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";

export const FIREFOX = process.env.GLIMPSE_FIREFOX ?? "/usr/bin/firefox-esr";
export const FIREFOX_BUILD = resolve("build/firefox-mv3-prod");
export const EXTENSION_ID = "glimpse@glimpse.dev";

export interface FirefoxVisitor {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchFirefoxVisitor(policy: { serverUrl: string; groupId: string; sites: string[] }): Promise<FirefoxVisitor> {
  if (!existsSync(join(FIREFOX_BUILD, "manifest.json"))) throw new Error("build/firefox-mv3-prod is missing: run `npm run build` first");
  const home = mkdtempSync(join(tmpdir(), "glimpse-firefox-"));
  const managed = join(home, ".mozilla", "managed-storage");
  mkdirSync(managed, { recursive: true });
  writeFileSync(join(managed, `${EXTENSION_ID}.json`), JSON.stringify({ name: EXTENSION_ID, description: "Glimpse test policy", type: "storage", data: policy }));
  const browser = await puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    env: { ...process.env, HOME: home, MOZ_CRASHREPORTER_DISABLE: "1" },
    extraPrefsFirefox: {
      // A closed network: no update, telemetry or remote-settings traffic.
      "app.update.enabled": false,
      "datareporting.policy.dataSubmissionEnabled": false,
      "toolkit.telemetry.enabled": false,
      "extensions.update.enabled": false,
    },
  });
  await browser.installExtension(FIREFOX_BUILD);
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/**
 * Click a button of Glimpse's page UI as a person would (real input through BiDi): Glimpse
 * ignores untrusted clicks, such as element.click() from a script.
 */
export async function clickUi(page: Page, label: string): Promise<void> {
  const box = await page.evaluate((text) => {
    const buttons = [...(document.querySelector("glimpse-ui")?.shadowRoot?.querySelectorAll("button") ?? [])];
    const rect = buttons.find((b) => b.textContent?.trim() === text)?.getBoundingClientRect();
    return rect ? { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 } : null;
  }, label);
  if (!box) throw new Error(`no "${label}" button in Glimpse's UI`);
  await page.mouse.click(box.x, box.y);
}
