/**
 * The agents' pointers on the shared page: an arrow and the agent's name, one colour per agent,
 * at the point of the element the agent points at (the same spot of the same element whatever
 * the visitor's viewport). Drawn in a closed shadow root under a host the recorder never records
 * (UI_ATTRIBUTE), so the agent does not see their own pointer come back; the host takes no pointer
 * events, so the page works as before under it.
 */
import { UI_ATTRIBUTE } from "~src/capture/masking";
import type { PointerTarget } from "~src/protocol";

type Target = NonNullable<PointerTarget>;

const SVG = "http://www.w3.org/2000/svg";

const COLOURS = ["#d93025", "#1a73e8", "#188038", "#e37400", "#9334e6", "#c5221f", "#007b83"];
const colourOf = (agent: string) => COLOURS[[...agent].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLOURS.length]!;

const STYLE = `
.pointer { position: fixed; left: 0; top: 0; pointer-events: none; transition: transform 80ms linear; will-change: transform; }
.pointer svg { display: block; width: 18px; height: 18px; filter: drop-shadow(0 1px 1px rgba(0,0,0,.35)); }
.pointer span { position: absolute; left: 14px; top: 16px; padding: 2px 6px; border-radius: 4px; color: #fff;
  font: 600 12px/1.3 system-ui, sans-serif; white-space: nowrap; }`;

export class Pointers {
  private host: HTMLElement | null = null;
  private root: ShadowRoot | null = null;
  private readonly shown = new Map<string, { element: HTMLElement; target: Target }>();
  private frame = 0;
  private readonly onViewportChange = () => this.schedule();

  constructor(private readonly nodeById: (id: number) => Node | null) {}

  /** Move `agent`'s pointer to `target`, or remove it (null). */
  show(agent: string, target: PointerTarget): void {
    if (!target) return this.remove(agent);
    let entry = this.shown.get(agent);
    if (!entry) {
      entry = { element: this.draw(agent), target };
      this.shown.set(agent, entry);
    }
    entry.target = target;
    this.place(entry.element, target);
  }

  clear(): void {
    for (const agent of [...this.shown.keys()]) this.remove(agent);
  }

  private remove(agent: string): void {
    this.shown.get(agent)?.element.remove();
    this.shown.delete(agent);
    if (this.shown.size === 0 && this.host) {
      removeEventListener("scroll", this.onViewportChange, true);
      removeEventListener("resize", this.onViewportChange);
      this.host.remove();
      this.host = this.root = null;
    }
  }

  private draw(agent: string): HTMLElement {
    if (!this.root) {
      this.host = document.createElement("glimpse-pointers");
      this.host.setAttribute(UI_ATTRIBUTE, "");
      // No size of its own (the recording keeps a blocked element's size): the pointers inside are fixed.
      this.host.style.cssText = "all: initial !important; position: fixed !important; top: 0 !important; left: 0 !important; width: 0 !important; height: 0 !important; overflow: visible !important; pointer-events: none !important; z-index: 2147483646 !important;";
      this.root = this.host.attachShadow({ mode: "closed" });
      const style = document.createElement("style");
      style.textContent = STYLE;
      this.root.append(style);
      document.documentElement.append(this.host);
      // Anchored to elements: when the page scrolls or reflows, each pointer follows its element.
      addEventListener("scroll", this.onViewportChange, { capture: true, passive: true });
      addEventListener("resize", this.onViewportChange);
    }
    const element = document.createElement("div");
    element.className = "pointer";
    element.dataset.agent = agent;
    const colour = colourOf(agent);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 18 18");
    const arrow = document.createElementNS(SVG, "path");
    for (const [name, value] of Object.entries({ d: "M1 1l6 16 2.5-6.5L16 8z", fill: colour, stroke: "#fff", "stroke-width": "1.2" })) arrow.setAttribute(name, value);
    svg.append(arrow);
    element.append(svg);
    const label = document.createElement("span");
    label.style.background = colour;
    label.textContent = agent;
    element.append(label);
    this.root!.append(element);
    return element;
  }

  /** Where the target's point is in the viewport now; hidden while its node is not in the page. */
  private place(element: HTMLElement, target: Target): void {
    const node = this.nodeById(target.id);
    const box = node ? boxOf(node) : null;
    if (!box) {
      element.style.visibility = "hidden";
      return;
    }
    element.style.visibility = "visible";
    element.style.transform = `translate(${Math.round(box.left + target.fx * box.width)}px, ${Math.round(box.top + target.fy * box.height)}px)`;
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const { element, target } of this.shown.values()) this.place(element, target);
    });
  }
}

function boxOf(node: Node): DOMRect | null {
  if (!node.isConnected) return null;
  if (node instanceof Element) return node.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(node);
  return range.getBoundingClientRect();
}
