/**
 * What the agent shows the visitor (#14), with the built extension in Chromium and the real
 * console: the agent's pointer on the visitor's page, at the element the agent points at.
 */
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { clickAt, pointAt, wheelTo } from "../helpers/agent-view";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { clickUi, marksShown, uiHas, waitForUiText } from "../helpers/ui";
import { AGENT_PASSWORD, startWorld, stopWorld, type World } from "../helpers/world";

let world: World;

beforeAll(async () => {
  world = await startWorld({ agents: ["alice", "bob"] });
});

afterAll(() => stopWorld(world));

/**
 * Pages a test opened, closed after it whether it passed or not: closing the shared tab ends its
 * session, so a failed test does not leave the next one unable to share.
 */
const open: Page[] = [];
const opened = (page: Page) => (open.push(page), page);
afterEach(async () => {
  for (const page of open.splice(0)) await page.close().catch(() => undefined);
});

/** Where (fx, fy) of `selector`'s box is on the visitor's page. */
async function pointOf(page: Page, selector: string, fx: number, fy: number) {
  const box = (await page.locator(selector).first().boundingBox())!;
  return { x: box.x + box.width * fx, y: box.y + box.height * fy };
}

const names = async (page: Page, kind: "pointer" | "highlight" = "pointer") => (await marksShown(page, kind)).map((p) => p.agent).sort();

describe("the agent's pointer (Chromium)", () => {
  it("shows where each agent points, with their name, on the same spot of the visitor's differently sized page; the visitor can hide it; it goes with the agent", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.setViewportSize({ width: 900, height: 500 }); // the console's view is another size; the page scrolls
    await page.goto(`${world.server.url}/demo/index.html`);
    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    expect(await marksShown(page, "pointer")).toEqual([]); // nothing before the agent points

    await pointAt(alice, "h1", 0.25, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);
    const target = await pointOf(page, "h1", 0.25, 0.5);
    await expect.poll(async () => {
      const [pointer] = await marksShown(page, "pointer");
      return pointer!.visible && Math.abs(pointer!.x - target.x) < 4 && Math.abs(pointer!.y - target.y) < 4;
    }, { timeout: 10_000 }).toBe(true);

    // The visitor scrolls: the pointer stays on its spot of the element (no new move from the agent).
    await page.evaluate(() => window.scrollTo(0, 80));
    const scrolled = await pointOf(page, "h1", 0.25, 0.5);
    expect(scrolled.y).toBeLessThan(target.y - 40);
    await expect.poll(async () => {
      const [pointer] = await marksShown(page, "pointer");
      return Math.abs(pointer!.x - scrolled.x) < 4 && Math.abs(pointer!.y - scrolled.y) < 4;
    }, { timeout: 10_000 }).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));

    // A second agent: both pointers, each with its name.
    const bob = opened(await signInAndJoin(world.agent!.browser, world.server.url, "bob", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await pointAt(bob, ".card", 0.5, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice", "bob"]);

    // The visitor hides them: gone at once, and the agents' moves no longer draw anything.
    await clickUi(page, "Hide the agent's pointer and highlights");
    await expect.poll(() => names(page), { timeout: 10_000 }).toEqual([]);
    await pointAt(alice, "h1", 0.5, 0.5);
    await pointAt(bob, "h1", 0.5, 0.5);
    await clickUi(page, "Show the agent's pointer and highlights"); // a round trip through the background: the moves above were dropped by now
    expect(await names(page)).toEqual([]);
    await pointAt(alice, "h1", 0.75, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);

    // bob leaves the session: his pointer goes with him.
    await pointAt(bob, "h1", 0.5, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice", "bob"]);
    await bob.getByRole("button", { name: "Leave" }).click();
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);

    // Never recorded back: the agent's view has no pointer element of Glimpse's.
    expect(await replayed(alice, "return doc.querySelectorAll('glimpse-marks *').length")).toBe(0);
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual([]);
    await alice.close();
    await bob.close();
    await page.close();
  });
});

/** The agent clicks a point of the replayed page where only its background is (body or html). */
async function clickBackground(agent: Page) {
  const at = await agent.evaluate(() => {
    const iframe = document.querySelector("[data-testid=agent-view] iframe") as HTMLIFrameElement;
    const doc = iframe.contentDocument!;
    const frame = iframe.getBoundingClientRect();
    const scale = frame.width / iframe.offsetWidth;
    for (let y = iframe.offsetHeight - 5; y > 0; y -= 10) {
      for (let x = 5; x < iframe.offsetWidth; x += 10) {
        const hit = doc.elementFromPoint(x, y);
        if (hit === doc.body || hit === doc.documentElement) return { x: frame.left + x * scale, y: frame.top + y * scale };
      }
    }
    return null;
  });
  expect(at).not.toBeNull();
  await agent.mouse.click(at!.x, at!.y);
}

describe("the agent's highlight (Chromium)", () => {
  it("outlines the element the agent clicks, follows it as the page reflows, moves to the next one, leaves the page working under it, and goes with the agent", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.goto(`${world.server.url}/demo/index.html`);
    await page.evaluate(() => localStorage.removeItem("glimpse-demo-cart"));
    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");

    const around = async (selector: string) => {
      const box = (await page.locator(selector).first().boundingBox())!;
      const [mark] = await marksShown(page, "highlight");
      return Boolean(mark?.visible) && Math.abs(mark!.x - (box.x - 4)) < 3 && Math.abs(mark!.y - (box.y - 4)) < 3 && Math.abs(mark!.width - (box.width + 8)) < 3 && Math.abs(mark!.height - (box.height + 8)) < 3;
    };
    await clickAt(alice, ".card");
    await expect.poll(() => names(page, "highlight"), { timeout: 15_000 }).toEqual(["alice"]);
    await expect.poll(() => around(".card"), { timeout: 10_000 }).toBe(true);
    expect(await alice.getByTestId("agent-highlight").isVisible()).toBe(true); // the agent sees what they marked

    // The page reflows (no scroll): the outline follows the card down.
    await page.evaluate(() => document.querySelector(".products")!.insertAdjacentHTML("beforebegin", '<div style="height:120px">Sale!</div>'));
    await expect.poll(() => around(".card"), { timeout: 10_000 }).toBe(true);

    // Under the outline the page works as before: the visitor adds the highlighted lamp to the cart.
    await page.locator(".card [data-add-to-cart]").first().click();
    await expect.poll(() => page.evaluate(() => localStorage.getItem("glimpse-demo-cart"))).toBe('["Terracotta lamp"]');

    // The visitor's Hide takes highlights away too.
    await clickUi(page, "Hide the agent's pointer and highlights");
    await expect.poll(() => names(page, "highlight"), { timeout: 10_000 }).toEqual([]);
    await clickUi(page, "Show the agent's pointer and highlights");

    // One highlight per agent: the next click moves it.
    await clickAt(alice, "h1");
    await expect.poll(() => around("h1"), { timeout: 10_000 }).toBe(true);
    expect(await names(page, "highlight")).toEqual(["alice"]);

    // A click on the page's background takes it away, on both sides.
    await clickBackground(alice);
    await expect.poll(() => names(page, "highlight"), { timeout: 15_000 }).toEqual([]);
    expect(await alice.getByTestId("agent-highlight").isVisible()).toBe(false);

    await clickAt(alice, ".card");
    await expect.poll(() => names(page, "highlight"), { timeout: 15_000 }).toEqual(["alice"]);
    await alice.getByRole("button", { name: "Leave" }).click();
    await expect.poll(() => names(page, "highlight"), { timeout: 15_000 }).toEqual([]);
    await clickUi(page, "Stop sharing");
    await alice.close();
    await page.close();
  });
});

describe("the agent's drawing (Chromium)", () => {
  it("a stroke drawn over the view lands on the same elements of the visitor's differently sized page, with the agent's name, and fades away", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.setViewportSize({ width: 900, height: 500 });
    await page.goto(`${world.server.url}/demo/index.html`);
    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");

    // Draw mode: a drag from the heading's left end to the first card's middle.
    await alice.getByRole("button", { name: "Draw" }).click();
    await pointAt(alice, "h1", 0.05, 0.5);
    await alice.mouse.down();
    await pointAt(alice, "h1", 0.5, 0.5);
    await pointAt(alice, ".card", 0.5, 0.5);
    await alice.mouse.up();
    expect(await alice.getByTestId("agent-stroke").count()).toBe(1); // the agent sees their stroke too
    await expect.poll(async () => (await marksShown(page, "stroke")).map((m) => m.agent), { timeout: 15_000 }).toEqual(["alice"]);
    const [stroke] = await marksShown(page, "stroke");
    const from = await page.locator("h1").boundingBox();
    const to = await page.locator(".card").first().boundingBox();
    // The path's box runs from the heading's left end to the card's middle, on the visitor's layout.
    expect(Math.abs(stroke!.x - (from!.x + from!.width * 0.05))).toBeLessThan(6);
    expect(Math.abs(stroke!.y + stroke!.height - (to!.y + to!.height * 0.5))).toBeLessThan(6);
    // A drag in draw mode is no click: nothing was highlighted.
    expect(await marksShown(page, "highlight")).toEqual([]);
    // It fades and goes, on both sides.
    await expect.poll(() => marksShown(page, "stroke"), { timeout: 15_000 }).toEqual([]);
    await expect.poll(() => alice.getByTestId("agent-stroke").count(), { timeout: 15_000 }).toBe(0);
    await clickUi(page, "Stop sharing");
    await alice.close();
    await page.close();
  });
});

describe("pause (Chromium)", () => {
  it("the visitor pauses: the agent is told, nothing of the page is sent (typing, another page) until Resume, then the agent sees the page as it is now", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.goto(`${world.server.url}/demo/index.html`);
    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    const overlay = () => alice.locator(".stage .overlay").textContent({ timeout: 1_000 }).catch(() => null);

    await clickUi(page, "Pause sharing");
    await expect.poll(overlay, { timeout: 15_000 }).toBe("The visitor paused sharing. The view resumes when they continue.");
    expect(await uiHas(page, "Sharing paused")).toBe(true);
    const pausedAt = world.server.inbound.length;

    // While paused: the visitor types and goes to another page of the site. Nothing of it leaves.
    await page.locator("#search").fill("private while paused");
    await page.locator("header a[href='cart.html']").click();
    await page.waitForURL(/cart\.html/);
    await waitForUiText(page, "Sharing paused");
    expect(await overlay()).toBe("The visitor paused sharing. The view resumes when they continue.");

    await clickUi(page, "Resume sharing");
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Your cart");
    await expect.poll(overlay, { timeout: 10_000 }).toBe(null);
    // Between the pause and the resumed recorder's first message, the extension sent no page content.
    const during = world.server.inbound.slice(pausedAt);
    const resumedAt = during.findIndex((text) => JSON.parse(text).t === "page");
    expect(resumedAt).toBeGreaterThanOrEqual(0);
    expect(during.slice(0, resumedAt).map((text) => JSON.parse(text).t)).toEqual([]);
    expect(world.server.inbound.some((text) => text.includes("private while paused"))).toBe(false);

    // Live again: the visitor's next change reaches the agent.
    await page.evaluate(() => { document.querySelector("h1")!.textContent = "Cart, live again"; });
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Cart, live again");
    expect(await uiHas(page, "Sharing paused")).toBe(false);
    await clickUi(page, "Stop sharing");
    await alice.close();
    await page.close();
  });
});

describe("a colleague invited, and what the site hears (Chromium)", () => {
  it("the agent invites a colleague by link (who signs in and lands in the session); the visitor's panel lists both; the page bridge reports agents, guests and pause", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.goto(`${world.server.url}/demo/index.html`);
    // The site listens to Glimpse's events (after speaking to the bridge once).
    await page.evaluate(() => {
      const w = window as unknown as { glimpseEvents: Record<string, unknown>[] };
      w.glimpseEvents = [];
      window.addEventListener("message", (event) => {
        if (event.source === window && event.data?.glimpse === 1 && event.data.event) w.glimpseEvents.push(event.data);
      });
      window.postMessage({ glimpse: 1, type: "getState" }, location.origin);
    });
    const events = () => page.evaluate(() => (window as unknown as { glimpseEvents: { event: string }[] }).glimpseEvents);
    const named = async (name: string): Promise<Record<string, unknown>[]> => (await events()).filter((e) => e.event === name).map(({ event: _, ...rest }) => rest);
    await expect.poll(() => named("VisitorInitialized"), { timeout: 15_000 }).toHaveLength(1);

    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");

    await alice.getByRole("button", { name: "Invite a colleague" }).click();
    const link = await alice.getByTestId("invite-link").inputValue();
    expect(link).toMatch(new RegExp(`^${world.server.url}/console/#/invite/[A-Za-z0-9_-]{43}$`));

    // bob is not signed in: the link asks him to, then takes him into the session.
    const bob = opened(await (await world.agent!.browser.newContext({ viewport: { width: 1400, height: 1000 } })).newPage());
    await bob.goto(link);
    await bob.getByLabel("Username").fill("bob");
    await bob.getByLabel("Password").fill(AGENT_PASSWORD);
    await bob.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    expect(bob.url()).toBe(`${world.server.url}/console/#/session/${key}`); // a reload rejoins, as for any session
    await expect.poll(() => alice.getByTestId("agents").textContent(), { timeout: 10_000 }).toBe("Agents: alice, bob");
    await waitForUiText(page, "alice, bob");

    // The link was good once: opened again (here by alice in another browser), it says so.
    const again = opened(await (await world.agent!.browser.newContext()).newPage());
    await again.goto(link);
    await again.getByLabel("Username").fill("alice");
    await again.getByLabel("Password").fill(AGENT_PASSWORD);
    await again.getByRole("button", { name: "Sign in" }).click();
    await again.getByText("This invitation link cannot be used", { exact: false }).waitFor({ timeout: 15_000 });
    expect(again.url()).toBe(`${world.server.url}/console/#/`);

    await clickUi(page, "Pause sharing");
    await expect.poll(() => named("SharingPaused"), { timeout: 15_000 }).toEqual([{ glimpse: 1, paused: true }]);
    await clickUi(page, "Resume sharing");
    await expect.poll(() => named("SharingPaused"), { timeout: 15_000 }).toEqual([{ glimpse: 1, paused: true }, { glimpse: 1, paused: false }]);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => named("SessionEnded"), { timeout: 15_000 }).toEqual([{ glimpse: 1, reason: "visitor_stopped" }]);

    expect(await named("ConnectedToSession")).toEqual([{ glimpse: 1, sessionKey: key, oneClick: false }]);
    expect((await named("GuestCountChange")).map((e) => e.count)).toEqual([1, 2]);
    expect(await named("Agents")).toEqual([{ glimpse: 1, agents: ["alice"] }, { glimpse: 1, agents: ["alice", "bob"] }]);
    await alice.close();
    await bob.close();
    await again.close();
    await page.close();
  });
});

describe("remote control (Chromium)", () => {
  it("the agent asks, the visitor declines, then allows: the agent types, chooses, ticks, scrolls and follows a link of the site; masked fields and other sites stay out of reach; the visitor's activity suspends control; Stop and Escape end it", async () => {
    const page = opened(await world.visitor.context.newPage());
    await page.setViewportSize({ width: 900, height: 500 });
    await page.goto(`${world.server.url}/demo/checkout.html`);
    const key = await shareAndReadKey(page);
    const alice = opened(await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key));
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Checkout");
    const state = () => alice.getByTestId("control-state").textContent({ timeout: 1_000 }).catch(() => null);
    const notice = () => alice.getByTestId("live-notice").textContent({ timeout: 1_000 }).catch(() => null);

    // Asked, and declined.
    await alice.getByRole("button", { name: "Request control" }).click();
    await waitForUiText(page, "Allow alice to control this page?");
    await expect.poll(state, { timeout: 10_000 }).toBe("Waiting for the visitor to allow control…");
    await clickUi(page, "Decline");
    await expect.poll(state, { timeout: 15_000 }).toBe("The visitor declined control.");
    expect(await uiHas(page, "Allow alice")).toBe(false);

    // Without control, a click in the view only highlights: the visitor's page is untouched.
    await clickAt(alice, "#gift");
    await expect.poll(() => names(page, "highlight"), { timeout: 15_000 }).toEqual(["alice"]);
    expect(await page.locator("#gift").isChecked()).toBe(false);

    // Asked again, and allowed.
    await alice.getByRole("button", { name: "Request control" }).click();
    await clickUi(page, "Allow");
    await expect.poll(state, { timeout: 15_000 }).toMatch(/^You control the visitor's page/);
    await waitForUiText(page, "alice is controlling this page");

    // Typing into a normal field, through the console's editor.
    await clickAt(alice, "#fullname");
    await alice.getByTestId("control-editor").pressSequentially("Vera Visitor");
    await expect.poll(() => page.locator("#fullname").inputValue(), { timeout: 15_000 }).toBe("Vera Visitor");
    await alice.getByRole("button", { name: "Done" }).click();
    // Choosing an option, ticking a box.
    await clickAt(alice, "#delivery");
    await alice.getByTestId("control-editor").selectOption({ label: "Express (next day)" });
    await expect.poll(() => page.locator("#delivery").inputValue(), { timeout: 15_000 }).toBe("express");
    await alice.getByRole("button", { name: "Done" }).click();
    await clickAt(alice, "#gift");
    await expect.poll(() => page.locator("#gift").isChecked(), { timeout: 15_000 }).toBe(true);

    // The wheel over the view scrolls the visitor's page (and so the agent's view) down to the payment fields.
    await wheelTo(alice, "#cc-number");
    expect(await page.evaluate(() => window.scrollY)).toBeGreaterThan(100);

    // A payment field is out of reach: nothing typed, and the agent is told why.
    await clickAt(alice, "#cc-number");
    await alice.getByTestId("control-editor").pressSequentially("4111");
    await expect.poll(notice, { timeout: 15_000 }).toMatch(/^That field is masked/);
    await alice.getByRole("button", { name: "Done" }).click();
    expect(await page.locator("#cc-number").inputValue()).toBe("");
    // So is another site: the bank's link does not navigate.
    await wheelTo(alice, "#bank");
    await clickAt(alice, "#bank");
    await expect.poll(notice, { timeout: 15_000 }).toMatch(/^That link leaves the shared site/);
    expect(page.url()).toBe(`${world.server.url}/demo/checkout.html`);

    // The visitor moves the mouse: control is suspended (the agent sees it, actions are refused), then resumes.
    await page.mouse.move(50, 300);
    await page.mouse.move(80, 320);
    await expect.poll(state, { timeout: 15_000 }).toBe("Control by alice is paused: the visitor is using the page. It resumes when they stop.");
    await waitForUiText(page, "Paused while you use the page.");
    await expect.poll(state, { timeout: 15_000 }).toMatch(/^You control the visitor's page/);

    // A link within the site: the visitor's tab goes there, and control carries on on the new page.
    await wheelTo(alice, "header");
    await clickAt(alice, "header a[href$='cart.html']");
    await page.waitForURL(/cart\.html/, { timeout: 15_000 });
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Your cart");
    await waitForUiText(page, "alice is controlling this page");
    // On the sign-in page, the password field is out of reach too.
    await clickAt(alice, "#account");
    await page.waitForURL(/login\.html/, { timeout: 15_000 });
    await expect.poll(() => replayed(alice, "return Boolean(doc.getElementById('password'))"), { timeout: 15_000 }).toBe(true);
    await clickAt(alice, "#password");
    await alice.getByTestId("control-editor").pressSequentially("hunter2");
    await expect.poll(notice, { timeout: 15_000 }).toMatch(/^That field is masked/);
    await alice.getByRole("button", { name: "Done" }).click();
    expect(await page.locator("#password").inputValue()).toBe("");

    // The visitor's Stop ends it at once: the console's clicks only highlight again.
    await clickUi(page, "Stop control");
    await expect.poll(state, { timeout: 15_000 }).toBe("The visitor took control back.");
    expect(await uiHas(page, "is controlling")).toBe(false);

    // And Escape, after another grant.
    await alice.getByRole("button", { name: "Request control" }).click();
    await clickUi(page, "Allow");
    await expect.poll(state, { timeout: 15_000 }).toMatch(/^You control the visitor's page/);
    await page.keyboard.press("Escape");
    await expect.poll(state, { timeout: 15_000 }).toBe("The visitor took control back.");

    await clickUi(page, "Stop sharing");
    await alice.close();
    await page.close();
  });
});
