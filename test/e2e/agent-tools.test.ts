/**
 * What the agent shows the visitor (#14), with the built extension in Chromium and the real
 * console: the agent's pointer on the visitor's page, at the element the agent points at.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayed, shareAndReadKey, signInAndJoin } from "../helpers/console";
import { clickUi, pointersShown, uiHas } from "../helpers/ui";
import { AGENT_PASSWORD, startWorld, stopWorld, type World } from "../helpers/world";

let world: World;

beforeAll(async () => {
  world = await startWorld({ agents: ["alice", "bob"] });
});

afterAll(() => stopWorld(world));

/** The agent moves the mouse onto the replayed `selector`, at (fx, fy) of its box (the console scales the page). */
async function pointAt(agent: Page, selector: string, fx: number, fy: number) {
  const at = await agent.evaluate(
    ({ selector, fx, fy }) => {
      const iframe = document.querySelector("[data-testid=agent-view] iframe") as HTMLIFrameElement;
      const box = iframe.contentDocument!.querySelector(selector)!.getBoundingClientRect();
      const frame = iframe.getBoundingClientRect();
      const scale = frame.width / iframe.offsetWidth;
      return { x: frame.left + (box.left + box.width * fx) * scale, y: frame.top + (box.top + box.height * fy) * scale };
    },
    { selector, fx, fy },
  );
  await agent.mouse.move(at.x, at.y, { steps: 4 });
}

/** Where (fx, fy) of `selector`'s box is on the visitor's page. */
async function pointOf(page: Page, selector: string, fx: number, fy: number) {
  const box = (await page.locator(selector).first().boundingBox())!;
  return { x: box.x + box.width * fx, y: box.y + box.height * fy };
}

const names = async (page: Page) => (await pointersShown(page)).map((p) => p.agent).sort();

describe("the agent's pointer (Chromium)", () => {
  it("shows where each agent points, with their name, on the same spot of the visitor's differently sized page; the visitor can hide it; it goes with the agent", async () => {
    const page = await world.visitor.context.newPage();
    await page.setViewportSize({ width: 900, height: 500 }); // the console's view is another size; the page scrolls
    await page.goto(`${world.server.url}/demo/index.html`);
    const key = await shareAndReadKey(page);
    const alice = await signInAndJoin(world.agent!.browser, world.server.url, "alice", AGENT_PASSWORD, key);
    await expect.poll(() => replayed(alice, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    expect(await pointersShown(page)).toEqual([]); // nothing before the agent points

    await pointAt(alice, "h1", 0.25, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);
    const target = await pointOf(page, "h1", 0.25, 0.5);
    await expect.poll(async () => {
      const [pointer] = await pointersShown(page);
      return pointer!.visible && Math.abs(pointer!.x - target.x) < 4 && Math.abs(pointer!.y - target.y) < 4;
    }, { timeout: 10_000 }).toBe(true);

    // The visitor scrolls: the pointer stays on its spot of the element (no new move from the agent).
    await page.evaluate(() => window.scrollTo(0, 80));
    const scrolled = await pointOf(page, "h1", 0.25, 0.5);
    expect(scrolled.y).toBeLessThan(target.y - 40);
    await expect.poll(async () => {
      const [pointer] = await pointersShown(page);
      return Math.abs(pointer!.x - scrolled.x) < 4 && Math.abs(pointer!.y - scrolled.y) < 4;
    }, { timeout: 10_000 }).toBe(true);
    await page.evaluate(() => window.scrollTo(0, 0));

    // A second agent: both pointers, each with its name.
    const bob = await signInAndJoin(world.agent!.browser, world.server.url, "bob", AGENT_PASSWORD, key);
    await expect.poll(() => replayed(bob, "return doc.querySelector('h1')?.textContent"), { timeout: 15_000 }).toBe("Products");
    await pointAt(bob, ".card", 0.5, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice", "bob"]);

    // The visitor hides them: gone at once, and the agents' moves no longer draw anything.
    await clickUi(page, "Hide the agent's pointer");
    await expect.poll(() => names(page), { timeout: 10_000 }).toEqual([]);
    await pointAt(alice, "h1", 0.5, 0.5);
    await pointAt(bob, "h1", 0.5, 0.5);
    await clickUi(page, "Show the agent's pointer"); // a round trip through the background: the moves above were dropped by now
    expect(await names(page)).toEqual([]);
    await pointAt(alice, "h1", 0.75, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);

    // bob leaves the session: his pointer goes with him.
    await pointAt(bob, "h1", 0.5, 0.5);
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice", "bob"]);
    await bob.getByRole("button", { name: "Leave" }).click();
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual(["alice"]);

    // Never recorded back: the agent's view has no pointer element of Glimpse's.
    expect(await replayed(alice, "return doc.querySelectorAll('glimpse-pointers *').length")).toBe(0);
    expect(await uiHas(page, "An agent is viewing")).toBe(true);
    await clickUi(page, "Stop sharing");
    await expect.poll(() => names(page), { timeout: 15_000 }).toEqual([]);
    await alice.close();
    await bob.close();
    await page.close();
  });
});
