/**
 * What agents show on the shared page: each agent's pointer (an arrow and their name), the
 * element they highlight (an outline) and the strokes they draw, one colour per agent. All are anchored to elements of the
 * recorded page (the rrweb ids the agent's replayer shares), so they land on the same element
 * whatever the visitor's viewport and follow it as the page scrolls and reflows. Drawn in a closed
 * shadow root under a host the recorder never records (UI_ATTRIBUTE), so the agents do not see
 * their marks come back; the host takes no pointer events, so the page works as before under it.
 */
import { UI_ATTRIBUTE } from "~src/capture/masking";
import { STROKE_MS, type PointerTarget, type Stroke } from "~src/protocol";

type Target = NonNullable<PointerTarget>;
type Mark =
  | { kind: "pointer"; element: HTMLElement; target: Target }
  | { kind: "highlight"; element: HTMLElement; id: number }
  | { kind: "stroke"; element: HTMLElement; stroke: Stroke };

const SVG = "http://www.w3.org/2000/svg";
const COLOURS = ["#d93025", "#1a73e8", "#188038", "#e37400", "#9334e6", "#c5221f", "#007b83"];
const colourOf = (agent: string) => COLOURS[[...agent].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLOURS.length]!;
/** How often a highlight is re-placed when nothing scrolled (the page may reflow under it). */
const REFLOW_CHECK_MS = 250;

const STYLE = `
.pointer { position: fixed; left: 0; top: 0; pointer-events: none; transition: transform 80ms linear; will-change: transform; }
.pointer svg { display: block; width: 18px; height: 18px; filter: drop-shadow(0 1px 1px rgba(0,0,0,.35)); }
.pointer span, .highlight span { position: absolute; padding: 2px 6px; border-radius: 4px; color: #fff;
  font: 600 12px/1.3 system-ui, sans-serif; white-space: nowrap; }
.pointer span { left: 14px; top: 16px; }
.highlight { position: fixed; left: 0; top: 0; pointer-events: none; box-sizing: border-box; border: 3px solid;
  border-radius: 4px; box-shadow: 0 0 0 4px rgba(255,255,255,.6); }
.highlight span { left: -3px; bottom: 100%; margin-bottom: 2px; }
.stroke { position: fixed; left: 0; top: 0; pointer-events: none; animation: fade ${STROKE_MS}ms linear forwards; }
.stroke svg { position: fixed; left: 0; top: 0; width: 100vw; height: 100vh; overflow: visible; }
.stroke span { position: fixed; padding: 2px 6px; border-radius: 4px; color: #fff; font: 600 12px/1.3 system-ui, sans-serif; white-space: nowrap; }
@keyframes fade { 0%, 75% { opacity: 1; } 100% { opacity: 0; } }`;

export class AgentMarks {
  private host: HTMLElement | null = null;
  private root: ShadowRoot | null = null;
  /** By `${kind}:${agent}` (strokes, several per agent while they fade: `stroke:${agent}:${n}`). */
  private readonly shown = new Map<string, Mark>();
  private frame = 0;
  private strokes = 0;
  private reflowTimer: ReturnType<typeof setInterval> | null = null;
  private readonly onViewportChange = () => this.schedule();

  constructor(private readonly nodeById: (id: number) => Node | null) {}

  /** Move `agent`'s pointer to `target`, or remove it (null). */
  pointer(agent: string, target: PointerTarget): void {
    if (!target) return this.remove(`pointer:${agent}`);
    const mark = this.mark("pointer", agent, () => ({ kind: "pointer", element: this.drawPointer(agent), target }));
    if (mark.kind === "pointer") mark.target = target;
    this.place(mark);
  }

  /** Outline the node `id` for `agent` (replacing their previous highlight), or remove it (null). */
  highlight(agent: string, id: number | null): void {
    if (id === null) return this.remove(`highlight:${agent}`);
    const mark = this.mark("highlight", agent, () => ({ kind: "highlight", element: this.drawHighlight(agent), id }));
    if (mark.kind === "highlight") mark.id = id;
    this.place(mark);
    this.reflowTimer ??= setInterval(() => this.schedule(), REFLOW_CHECK_MS);
  }

  /** Draw `agent`'s stroke over the page; it follows the elements it was drawn on, and fades. */
  draw(agent: string, stroke: Stroke): void {
    const key = `stroke:${agent}:${++this.strokes}`;
    const element = this.labelled("stroke", agent);
    const svg = document.createElementNS(SVG, "svg");
    const path = document.createElementNS(SVG, "path");
    for (const [name, value] of Object.entries({ fill: "none", stroke: colourOf(agent), "stroke-width": "4", "stroke-linecap": "round", "stroke-linejoin": "round" })) path.setAttribute(name, value);
    svg.append(path);
    element.prepend(svg);
    const mark: Mark = { kind: "stroke", element, stroke };
    this.shown.set(key, mark);
    this.place(mark);
    setTimeout(() => this.remove(key), STROKE_MS);
  }

  clear(): void {
    for (const key of [...this.shown.keys()]) this.remove(key);
  }

  private mark(kind: Mark["kind"], agent: string, make: () => Mark): Mark {
    const key = `${kind}:${agent}`;
    let mark = this.shown.get(key);
    if (!mark) {
      mark = make();
      this.shown.set(key, mark);
    }
    return mark;
  }

  private remove(key: string): void {
    this.shown.get(key)?.element.remove();
    this.shown.delete(key);
    if (![...this.shown.values()].some((mark) => mark.kind === "highlight") && this.reflowTimer) {
      clearInterval(this.reflowTimer);
      this.reflowTimer = null;
    }
    if (this.shown.size === 0 && this.host) {
      removeEventListener("scroll", this.onViewportChange, true);
      removeEventListener("resize", this.onViewportChange);
      this.host.remove();
      this.host = this.root = null;
    }
  }

  private layer(): ShadowRoot {
    if (this.root) return this.root;
    this.host = document.createElement("glimpse-marks");
    this.host.setAttribute(UI_ATTRIBUTE, "");
    // No size of its own (the recording keeps a blocked element's size): the marks inside are fixed.
    this.host.style.cssText =
      "all: initial !important; position: fixed !important; top: 0 !important; left: 0 !important; width: 0 !important; height: 0 !important; overflow: visible !important; pointer-events: none !important; z-index: 2147483646 !important;";
    this.root = this.host.attachShadow({ mode: "closed" });
    const style = document.createElement("style");
    style.textContent = STYLE;
    this.root.append(style);
    document.documentElement.append(this.host);
    addEventListener("scroll", this.onViewportChange, { capture: true, passive: true });
    addEventListener("resize", this.onViewportChange);
    return this.root;
  }

  private drawPointer(agent: string): HTMLElement {
    const element = this.labelled("pointer", agent);
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 18 18");
    const arrow = document.createElementNS(SVG, "path");
    for (const [name, value] of Object.entries({ d: "M1 1l6 16 2.5-6.5L16 8z", fill: colourOf(agent), stroke: "#fff", "stroke-width": "1.2" })) arrow.setAttribute(name, value);
    svg.append(arrow);
    element.prepend(svg);
    return element;
  }

  private drawHighlight(agent: string): HTMLElement {
    const element = this.labelled("highlight", agent);
    element.style.borderColor = colourOf(agent);
    return element;
  }

  /** A mark's element with the agent's name on a label of their colour. */
  private labelled(kind: Mark["kind"], agent: string): HTMLElement {
    const element = document.createElement("div");
    element.className = kind;
    element.dataset.agent = agent;
    const label = document.createElement("span");
    label.style.background = colourOf(agent);
    label.textContent = agent;
    element.append(label);
    this.layer().append(element);
    return element;
  }

  /** Where the mark's node is in the viewport now; hidden while that node is not in the page. */
  private place(mark: Mark): void {
    if (mark.kind === "stroke") return placeStroke(mark.element, mark.stroke, this.nodeById);
    const node = this.nodeById(mark.kind === "pointer" ? mark.target.id : mark.id);
    const box = node ? boxOf(node) : null;
    const { style } = mark.element;
    if (!box) {
      style.visibility = "hidden";
      return;
    }
    style.visibility = "visible";
    if (mark.kind === "pointer") {
      style.transform = `translate(${Math.round(box.left + mark.target.fx * box.width)}px, ${Math.round(box.top + mark.target.fy * box.height)}px)`;
    } else {
      style.transform = `translate(${Math.round(box.left) - 4}px, ${Math.round(box.top) - 4}px)`;
      style.width = `${Math.round(box.width) + 8}px`;
      style.height = `${Math.round(box.height) + 8}px`;
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      for (const mark of this.shown.values()) this.place(mark);
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

/** A stroke's path through its points where their elements are now (points on removed elements are skipped). */
function placeStroke(element: HTMLElement, stroke: Stroke, nodeById: (id: number) => Node | null): void {
  const points: string[] = [];
  for (const point of stroke) {
    const node = nodeById(point.id);
    const box = node ? boxOf(node) : null;
    if (box) points.push(`${Math.round(box.left + point.fx * box.width)} ${Math.round(box.top + point.fy * box.height)}`);
  }
  element.style.visibility = points.length > 1 ? "visible" : "hidden";
  element.querySelector("path")?.setAttribute("d", points.length > 1 ? `M${points.join(" L")}` : "");
  const [x, y] = (points[points.length - 1] ?? "0 0").split(" ");
  const label = element.querySelector("span");
  if (label) label.style.transform = `translate(${Number(x) + 8}px, ${Number(y) + 8}px)`;
}
