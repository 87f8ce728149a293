/**
 * Firefox ESR with the built extension (puppeteer-core over WebDriver BiDi, see ../shared
 * TOOLCHAIN). BiDi cannot open moz-extension:// pages, so the extension is configured the way an
 * organisation would: a managed-storage manifest (enterprise policy) in the profile's $HOME.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import puppeteer, { type Browser, type ElementHandle, type Page } from "puppeteer-core";
import { BidiElementHandle } from "puppeteer-core/internal/bidi/ElementHandle.js";
import { expect } from "vitest";
import { ARM_MS } from "../../contents/ui/guard";

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
 * Glimpse's widget lives in a closed shadow root that page scripts cannot enter. WebDriver BiDi
 * serialises an element's shadow root whatever its mode, so the tests reach it as automation may,
 * through the host's remote value. Null when there is no Glimpse UI on the page.
 */
async function uiRoot(page: Page): Promise<ElementHandle<ShadowRoot> | null> {
  const host = await page.$("glimpse-ui");
  if (!host) return null;
  const bidiHost = host as unknown as { remoteValue(): { value?: { shadowRoot?: unknown } }; realm: unknown };
  const shadow = bidiHost.remoteValue().value?.shadowRoot;
  if (!shadow) return null;
  return (BidiElementHandle as unknown as { from(value: unknown, realm: unknown): ElementHandle<ShadowRoot> }).from(shadow, bidiHost.realm);
}

/** Text of Glimpse's widget (or of the first element matching `selector` in it), or null. */
export async function uiText(page: Page, selector?: string): Promise<string | null> {
  const root = await uiRoot(page);
  return root ? root.evaluate((r, s) => (s ? r.querySelector(s) : r)?.textContent ?? null, selector ?? null) : null;
}

/** Wait until Glimpse's widget shows this text. */
export async function waitForUiText(page: Page, text: string, timeout = 15_000): Promise<void> {
  await expect.poll(async () => (await uiText(page)) ?? "", { timeout }).toContain(text);
}

/** The session key the widget shows ("123456"), once it shows one. */
export async function waitForKey(page: Page, timeout = 15_000): Promise<string> {
  await expect.poll(async () => (await uiText(page, "output.key")) ?? "", { timeout }).toMatch(/^\d{3} \d{3}$/);
  return (await uiText(page, "output.key"))!.replace(/\s/g, "");
}

/** The visitor clicks Share screen; resolves to the session key the widget then shows. */
export async function shareAndReadKey(page: Page): Promise<string> {
  await clickUi(page, "Share screen");
  return waitForKey(page);
}

/**
 * Click a button of Glimpse's widget as a person would (real input through BiDi), once it acts on
 * a click: Glimpse ignores untrusted clicks, such as element.click() from a script, and a guarded
 * button (Share screen) waits a moment after it appears.
 */
export async function clickUi(page: Page, label: string, timeout = 15_000): Promise<void> {
  const find = async () => {
    const root = await uiRoot(page);
    return root
      ? root.evaluate((r, text) => {
          const button = [...r.querySelectorAll("button")].find((b) => b.textContent?.trim() === text);
          if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return null;
          const rect = button.getBoundingClientRect();
          return { x: rect.x + rect.width / 2, y: rect.y + rect.height / 2 };
        }, label)
      : null;
  };
  await expect.poll(find, { timeout }).not.toBeNull();
  const box = (await find())!;
  await page.mouse.click(box.x, box.y);
}

/** Whether the consent frame (terms.html, an extension frame in the closed root) is on the page. */
export async function termsShown(page: Page): Promise<boolean> {
  const root = await uiRoot(page);
  return root ? root.evaluate((r) => r.querySelector("iframe.terms-frame") !== null) : false;
}

/**
 * Answer the consent dialog from the keyboard, as a visitor may: focus starts on Decline, Tab moves
 * to Accept (BiDi cannot script moz-extension frames, Firefox bug 1755014, but real key presses
 * reach them). `displayed` tells when the agent's side saw the dialog painted; Accept counts only
 * once it has been up for ARM_MS (contents/ui/guard.ts), so the keys come a moment later.
 */
export async function answerTerms(page: Page, answer: "Accept" | "Decline", displayed: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  await expect.poll(() => termsShown(page), { timeout }).toBe(true);
  await expect.poll(displayed, { timeout }).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, ARM_MS * 2));
  if (answer === "Accept") await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
}
