/** Drive the agent console as an agent would. */
import type { Browser, Page } from "playwright-core";
import { clickUi, waitForKey } from "./ui";

/** Each agent gets a fresh browser context (its own cookies), as two people on two machines. */
export async function signInAndJoin(browser: Browser, baseUrl: string, username: string, password: string, key: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await signIn(await context.newPage(), baseUrl, username, password);
  await page.getByLabel("Session key").fill(key);
  await page.getByRole("button", { name: "Join" }).click();
  return page;
}

/** Sign in on the console's form; resolves once the console shows the key form. */
export async function signIn(page: Page, baseUrl: string, username: string, password: string): Promise<Page> {
  await page.goto(`${baseUrl}/console/`);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByLabel("Session key").waitFor();
  return page;
}

/** Evaluate `body` (with `doc` = the replayed document) in the agent's view; null before it exists. */
export function replayed<T = unknown>(agentPage: Page, body: string): Promise<T | null> {
  return agentPage.evaluate((source) => {
    const doc = (document.querySelector("[data-testid=agent-view] iframe") as HTMLIFrameElement | null)?.contentDocument;
    return doc ? new Function("doc", source)(doc) : null;
  }, body) as Promise<T | null>;
}

/** Click Share screen on the visitor's page and read the key it shows. */
export async function shareAndReadKey(page: Page): Promise<string> {
  await clickUi(page, "Share screen");
  return waitForKey(page);
}
