/**
 * Glimpse's page UI as a visitor meets it, in Chromium. The widget lives in a closed shadow root,
 * which page scripts — and Playwright's selectors — cannot enter (microsoft/playwright#23047); the
 * tests read it the way DevTools does, through CDP's DOM domain with `pierce`, and press its buttons
 * with real mouse input at their place on screen. The consent dialog is the extension frame
 * terms.html, which Playwright reaches as a frame of the page.
 */
import type { CDPSession, Frame, Page } from "playwright-core";

/**
 * Wait (on state) until `read()` gives a value `ok` accepts, and return it. Plain code rather than
 * vitest's expect.poll: the benchmarks drive the extension with these helpers outside vitest.
 */
async function until<T>(read: () => Promise<T> | T, ok: (value: T) => boolean, timeout: number, what: string): Promise<T> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeout} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const sessions = new WeakMap<Page, Promise<CDPSession>>();

function cdp(page: Page): Promise<CDPSession> {
  let session = sessions.get(page);
  if (!session) {
    session = page.context().newCDPSession(page);
    sessions.set(page, session);
  }
  return session;
}

/**
 * Run `fn` (source of a function taking the shadow root as `this` and one argument) inside
 * Glimpse's shadow root; null when there is no Glimpse UI on the page.
 */
const inUi = <T>(page: Page, fn: string, arg?: unknown) => inShadow<T>(page, "glimpse-ui", fn, arg);

/** The same, inside the closed shadow root of the element `host` (a Glimpse element of the page). */
async function inShadow<T>(page: Page, host: string, fn: string, arg?: unknown): Promise<T | null> {
  const session = await cdp(page);
  const { root } = await session.send("DOM.getDocument", { depth: 1 });
  const { nodeId } = await session.send("DOM.querySelector", { nodeId: root.nodeId, selector: host });
  if (!nodeId) return null;
  const { node } = await session.send("DOM.describeNode", { nodeId, depth: 1, pierce: true });
  const shadow = node.shadowRoots?.[0];
  if (!shadow) return null;
  const { object } = await session.send("DOM.resolveNode", { backendNodeId: shadow.backendNodeId, objectGroup: "glimpse-ui" });
  try {
    const { result } = await session.send("Runtime.callFunctionOn", {
      objectId: object.objectId!,
      functionDeclaration: fn,
      arguments: [{ value: arg ?? null }],
      returnByValue: true,
    });
    return (result.value ?? null) as T | null;
  } finally {
    await session.send("Runtime.releaseObjectGroup", { objectGroup: "glimpse-ui" });
  }
}

export interface MarkShown {
  agent: string;
  /** A pointer's tip, a highlight's outer box, or a stroke's path box. */
  x: number;
  y: number;
  width: number;
  height: number;
  visible: boolean;
}

/** What agents show on the page (pointers, highlights, strokes): each agent's name and where it is drawn (a stroke: its path's box). */
export const marksShown = async (page: Page, kind: "pointer" | "highlight" | "stroke") =>
  (await inShadow<MarkShown[]>(
    page,
    "glimpse-marks",
    `function (kind) {
      return [...this.querySelectorAll("." + kind)].map((el) => {
        const r = (kind === "stroke" ? el.querySelector("path") : el).getBoundingClientRect();
        return { agent: el.textContent, x: r.x, y: r.y, width: r.width, height: r.height, visible: getComputedStyle(el).visibility === "visible" };
      });
    }`,
    kind,
  )) ?? [];

/** The shadow root's mode as the page would see it ("closed"), or null without a Glimpse UI. */
export const uiMode = (page: Page) => inUi<string>(page, "function () { return this.mode; }");

/** Text of the widget (or of the first element matching `selector` in it); null if absent. */
export const uiText = (page: Page, selector?: string) =>
  inUi<string>(page, "function (s) { const el = s ? this.querySelector(s) : this; return el ? el.textContent : null; }", selector);

export interface UiButton {
  x: number;
  y: number;
  disabled: boolean;
  guard: string | null;
  style: { fontSize: string; visibility: string; display: string; opacity: string };
}

/** The widget's button with this label: its centre on screen, whether it acts, and how it is drawn. */
export const uiButton = (page: Page, label: string) =>
  inUi<UiButton>(
    page,
    `function (label) {
      const b = [...this.querySelectorAll("button")].find((el) => el.textContent.trim() === label);
      if (!b) return null;
      const r = b.getBoundingClientRect();
      const css = getComputedStyle(b);
      return {
        x: r.x + r.width / 2, y: r.y + r.height / 2,
        disabled: b.disabled || b.getAttribute("aria-disabled") === "true",
        guard: b.getAttribute("data-guard"),
        style: { fontSize: css.fontSize, visibility: css.visibility, display: css.display, opacity: css.opacity },
      };
    }`,
    label,
  );

/** Where the widget is drawn (to leave it out of pixel comparisons), or null. */
export const uiRect = (page: Page) =>
  inUi<{ x: number; y: number; width: number; height: number }>(
    page,
    `function () { const el = this.querySelector(".root > *"); if (!el) return null; const r = el.getBoundingClientRect(); return { x: r.x, y: r.y, width: r.width, height: r.height }; }`,
  );

/** Wait until the widget shows this text. */
export async function waitForUiText(page: Page, text: string, timeout = 15_000): Promise<void> {
  await until(async () => (await uiText(page)) ?? "", (shown) => shown.includes(text), timeout, `the widget showing "${text}"`);
}

/** Press the widget's button as the visitor would, once it is there and acts on a click. */
export async function clickUi(page: Page, label: string, timeout = 15_000): Promise<void> {
  await until(async () => { const b = await uiButton(page, label); return b ? !b.disabled : false; }, Boolean, timeout, `the widget's "${label}" button acting on a click`);
  const button = (await uiButton(page, label))!;
  await page.mouse.click(button.x, button.y);
}

/** The session key the widget shows ("123456"), once it shows one. */
export async function waitForKey(page: Page, timeout = 15_000): Promise<string> {
  await until(async () => (await uiText(page, "output.key")) ?? "", (key) => /^\d{3} \d{3}$/.test(key), timeout, "the session key on the widget");
  return (await uiText(page, "output.key"))!.replace(/\s/g, "");
}

const isTermsFrame = (frame: Frame) => /^chrome-extension:\/\/[^/]+\/terms\.html/.test(frame.url());

/** The consent frame if it is up (its dialog may still be loading). */
export const termsFrame = (page: Page): Frame | null => page.frames().find(isTermsFrame) ?? null;

/** Wait for the consent dialog and return its frame. */
export async function waitForTerms(page: Page, timeout = 15_000): Promise<Frame> {
  await until(async () => {
    const frame = termsFrame(page);
    return frame ? frame.getByRole("dialog").count().catch(() => 0) : 0;
  }, (dialogs) => dialogs === 1, timeout, "the consent dialog");
  return termsFrame(page)!;
}

/** Wait until no consent frame is left on the page. */
export async function waitForTermsGone(page: Page, timeout = 15_000): Promise<void> {
  await until(() => termsFrame(page) === null, Boolean, timeout, "the consent frame gone");
}

/** Answer the consent dialog with a real click, on Accept once the guard has armed it (as the visitor sees it enabled). */
export async function answerTerms(page: Page, answer: "Accept" | "Decline", timeout = 15_000): Promise<void> {
  const frame = await waitForTerms(page, timeout);
  const button = frame.getByRole("button", { name: answer });
  if (answer === "Accept") await until(() => button.getAttribute("data-guard"), (guard) => guard === "armed", timeout, "Accept armed");
  // A real click at the button's place. The answer takes the frame out of the page, and Chromium
  // sometimes never acknowledges the mouse-up to a frame whose process went away meanwhile: a
  // locator click then timed out at "performing click action" and a bare mouse click hung for
  // good (seen in CI, 1 run in 3). What the visitor gets — the dialog gone — is what counts.
  const box = await button.boundingBox({ timeout });
  if (!box) throw new Error(`the ${answer} button of the consent dialog is not on screen`);
  const clicked = page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  clicked.catch(() => undefined);
  await Promise.race([clicked, waitForTermsGone(page, timeout).catch(() => undefined)]);
}

/** Whether the widget shows this text now. */
export const uiHas = async (page: Page, text: string) => ((await uiText(page)) ?? "").includes(text);

/** The consent dialog's text, or "" while there is none. */
export async function termsText(page: Page): Promise<string> {
  const frame = termsFrame(page);
  if (!frame) return "";
  // A plain read, no waiting: callers poll it, and the frame may go away between two reads.
  return frame.evaluate(() => document.querySelector("[role=dialog]")?.textContent ?? "").catch(() => "");
}
