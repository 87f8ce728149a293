/** The agent's hand in the console's live view: pointing, clicking and turning the wheel over the replayed page. */
import type { Page } from "playwright-core";
import { expect } from "vitest";
import { replayed } from "./console";

/**
 * The agent moves the mouse onto the replayed `selector`, at (fx, fy) of its box (the console scales
 * the page). Waits for it to be in the view: a big snapshot arrives in slices, so the page builds up.
 */
export async function pointAt(agent: Page, selector: string, fx: number, fy: number) {
  await expect.poll(() => replayed(agent, `return Boolean(doc.querySelector(${JSON.stringify(selector)}))`), { timeout: 15_000 }).toBe(true);
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

/** The agent clicks the replayed `selector` (its middle). */
export async function clickAt(agent: Page, selector: string) {
  await pointAt(agent, selector, 0.5, 0.5);
  await agent.mouse.down();
  await agent.mouse.up();
}

/** The agent in control turns the wheel over the view until `selector` is in sight on the visitor's page (and so in the view). */
export async function wheelTo(agent: Page, selector: string) {
  const offset = () => replayed<number>(agent, `const r = doc.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); const h = doc.defaultView.innerHeight; return r.top >= 0 && r.bottom <= h ? 0 : Math.round(r.top - h / 2);`);
  await expect.poll(async () => {
    const by = await offset();
    if (by) {
      const view = (await agent.getByTestId("agent-view").boundingBox())!;
      await agent.mouse.move(view.x + view.width / 2, view.y + 40);
      await agent.mouse.wheel(0, by);
    }
    return by;
  }, { timeout: 20_000, interval: 1_000 }).toBe(0);
}
