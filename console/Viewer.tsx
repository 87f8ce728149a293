/** The live view: rrweb's replayer in live mode, scaled to fit the stage. */
import { useEffect, useRef } from "preact/hooks";
import { Replayer } from "rrweb";
import type { eventWithTime } from "@rrweb/types";
import { mapEventUrls } from "~src/capture/urls";
import { STROKE_MS, type ControlAction, type PointerTarget, type Stroke } from "~src/protocol";
import { applyPageEvent } from "./page-events";

export interface ViewerHandle {
  add(events: unknown[]): void;
}

/** While the agent controls the visitor's page: clicks and the wheel act on it, fields open the console's editor. */
export interface ViewerControl {
  act: (action: ControlAction) => void;
  edit: (field: { id: number; kind: "text"; value: string } | { id: number; kind: "select"; options: string[]; index: number }) => void;
}

/** Input types the agent types into through the editor (as contents/capture/control.ts accepts them). */
const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "number", "password"]);

/**
 * `sessionKey` scopes the carried assets: every resource URL of the replayed page is mapped to the
 * session's asset endpoint, so the agent's browser asks only this server (the console's CSP
 * enforces it).
 */
export function Viewer({
  register,
  overlay,
  sessionKey,
  onPointer,
  onHighlight,
  control,
  drawing,
  onDraw,
}: {
  register: (handle: ViewerHandle | null) => void;
  overlay: string | null;
  sessionKey: string;
  /** Where the agent points in the replayed page (throttled), null when the pointer leaves it. */
  onPointer: (target: PointerTarget) => void;
  /** The node the agent clicked, to outline for the visitor; null (a click on the page's background) removes it. */
  onHighlight: (id: number | null) => void;
  control: ViewerControl | null;
  /** Draw mode: a drag draws a stroke (sent when the mouse is released) instead of clicking. */
  drawing: boolean;
  onDraw: (stroke: Stroke) => void;
}) {
  const stage = useRef<HTMLDivElement>(null);
  // The view is set up once; what a click does follows the latest props.
  const controlRef = useRef<ViewerControl | null>(control);
  controlRef.current = control;
  const drawRef = useRef({ drawing, onDraw });
  drawRef.current = { drawing, onDraw };
  const screen = useRef<HTMLDivElement>(null);
  const outline = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const root = screen.current!;
    const replayer = new Replayer([], {
      root,
      liveMode: true,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      // The replayed page runs no script, and a browser then forces media controls onto every
      // video: the visitor's page shows them only where its markup asks for them.
      insertStyleRules: ["video:not([controls])::-webkit-media-controls { display: none !important; }"],
    });
    // Events are stamped with the agent's clock on arrival: the visitor's clock may be off, and
    // replaying "now" keeps the view as close to live as the network allows.
    replayer.startLive(Date.now());
    // A new page is rebuilt into the same document, whose constructed sheets would outlive the
    // page that adopted them (its own adopted sheets arrive after the snapshot).
    replayer.on("fullsnapshot-rebuilded", () => {
      const doc = replayer.iframe.contentDocument;
      if (doc && doc.adoptedStyleSheets.length > 0) doc.adoptedStyleSheets = [];
    });
    replayer.on("custom-event", (event) => {
      const data = (event as { data?: { tag?: string; payload?: unknown } }).data;
      if (data?.tag) applyPageEvent(replayer, data.tag, data.payload);
    });
    const assets = `${location.origin}/api/sessions/${encodeURIComponent(sessionKey)}/assets?u=`;
    const toAsset = (url: string) => assets + encodeURIComponent(url);
    let size = { width: 0, height: 0 };
    const fit = () => {
      const box = stage.current!.getBoundingClientRect();
      if (!size.width || !size.height) return;
      const scale = Math.min(box.width / size.width, box.height / size.height, 1);
      root.style.transform = `scale(${scale})`;
      // Whole pixels: a fractional offset blurs every replayed pixel.
      root.style.left = `${Math.round(Math.max(0, (box.width - size.width * scale) / 2))}px`;
    };
    replayer.on("resize", (dimension) => {
      size = dimension as { width: number; height: number };
      fit();
    });
    const observer = new ResizeObserver(fit);
    observer.observe(stage.current!);
    // The agent's pointer, as an element of the replayed page and a point in its box (the replayed
    // iframe takes no pointer events: the stage hears the mouse and asks the replayed document).
    const pointing = new PointerThrottle(onPointer);
    const stageElement = stage.current!;
    const onMove = (event: MouseEvent) => {
      if (stroke) addPoint(event);
      pointing.set(hitAt(replayer, event.clientX, event.clientY)?.target ?? null);
    };
    const onLeave = () => pointing.set(null);
    // A click highlights the element for the visitor, and outlines it here as the agent's feedback.
    let highlighted: Element | null = null;
    const showOutline = () => {
      const box = highlighted?.isConnected ? highlighted.getBoundingClientRect() : null;
      const element = outline.current!;
      if (!box || !highlighted) return void (element.hidden = true);
      const frame = replayer.iframe.getBoundingClientRect();
      const scale = frame.width / replayer.iframe.offsetWidth;
      const origin = stageElement.getBoundingClientRect();
      Object.assign(element.style, {
        left: `${frame.left - origin.left + box.left * scale}px`,
        top: `${frame.top - origin.top + box.top * scale}px`,
        width: `${box.width * scale}px`,
        height: `${box.height * scale}px`,
      });
      element.hidden = false;
    };
    const outlineTimer = setInterval(showOutline, 250);
    // Draw mode: a drag collects anchored points (at least 4 px apart), sent on release and echoed here.
    let stroke: { points: Stroke; screen: string[]; last: { x: number; y: number } } | null = null;
    let drew = false;
    const onDown = (event: MouseEvent) => {
      if (!drawRef.current.drawing || event.button !== 0) return;
      event.preventDefault();
      stroke = { points: [], screen: [], last: { x: -99, y: -99 } };
      addPoint(event);
    };
    const addPoint = (event: MouseEvent) => {
      if (!stroke || stroke.points.length >= 200 || Math.hypot(event.clientX - stroke.last.x, event.clientY - stroke.last.y) < 4) return;
      const hit = hitAt(replayer, event.clientX, event.clientY);
      if (!hit) return;
      const origin = stageElement.getBoundingClientRect();
      stroke.last = { x: event.clientX, y: event.clientY };
      stroke.points.push(hit.target);
      stroke.screen.push(`${Math.round(event.clientX - origin.left)} ${Math.round(event.clientY - origin.top)}`);
    };
    const onUp = () => {
      if (!stroke) return;
      const done = stroke;
      stroke = null;
      drew = true;
      if (done.points.length < 2) return;
      drawRef.current.onDraw(done.points);
      echoStroke(stageElement, done.screen);
    };
    const onClick = (event: MouseEvent) => {
      if (drew || drawRef.current.drawing) return void (drew = false);
      const hit = hitAt(replayer, event.clientX, event.clientY);
      if (controlRef.current) return void (hit && controlClick(controlRef.current, hit.element, hit.target.id));
      const background = !hit || hit.element === hit.element.ownerDocument.body || hit.element === hit.element.ownerDocument.documentElement;
      highlighted = background ? null : hit.element;
      onHighlight(background ? null : hit.target.id);
      showOutline();
    };
    stageElement.addEventListener("mousemove", onMove);
    stageElement.addEventListener("mouseleave", onLeave);
    stageElement.addEventListener("click", onClick);
    stageElement.addEventListener("mousedown", onDown);
    window.addEventListener("mouseup", onUp);
    // In control, the wheel scrolls the visitor's page (their recorded scroll brings the view along).
    let wheelTarget: { x: number; y: number } | null = null;
    let wheelTimer: ReturnType<typeof setTimeout> | null = null;
    const onWheel = (event: WheelEvent) => {
      const acting = controlRef.current;
      const view = replayer.iframe.contentWindow;
      if (!acting || !view) return;
      event.preventDefault();
      const from = wheelTarget ?? { x: view.scrollX, y: view.scrollY };
      wheelTarget = { x: Math.max(0, Math.round(from.x + event.deltaX)), y: Math.max(0, Math.round(from.y + event.deltaY)) };
      wheelTimer ??= setTimeout(() => {
        wheelTimer = null;
        if (wheelTarget) acting.act({ kind: "scroll", ...wheelTarget });
        wheelTarget = null;
      }, 50);
    };
    stageElement.addEventListener("wheel", onWheel, { passive: false });
    register({
      add(events) {
        for (const event of events) replayer.addEvent(mapEventUrls({ ...(event as eventWithTime), timestamp: Date.now() }, toAsset));
      },
    });
    return () => {
      register(null);
      pointing.stop();
      clearInterval(outlineTimer);
      stageElement.removeEventListener("mousemove", onMove);
      stageElement.removeEventListener("mouseleave", onLeave);
      stageElement.removeEventListener("click", onClick);
      stageElement.removeEventListener("mousedown", onDown);
      window.removeEventListener("mouseup", onUp);
      stageElement.removeEventListener("wheel", onWheel);
      if (wheelTimer) clearTimeout(wheelTimer);
      observer.disconnect();
      replayer.destroy();
    };
  }, []);

  return (
    <div class={drawing ? "stage drawing" : "stage"} ref={stage}>
      <div class="screen" ref={screen} data-testid="agent-view" />
      <div class="highlight" ref={outline} hidden data-testid="agent-highlight" />
      {overlay && <div class="overlay" role="status">{overlay}</div>}
    </div>
  );
}

/** The agent's own stroke over the view, fading as it does on the visitor's page. */
function echoStroke(stage: HTMLElement, points: string[]): void {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("class", "stroke");
  svg.setAttribute("data-testid", "agent-stroke");
  const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("d", `M${points.join(" L")}`);
  svg.append(path);
  svg.style.animationDuration = `${STROKE_MS}ms`;
  stage.append(svg);
  setTimeout(() => svg.remove(), STROKE_MS);
}

/** A click in control: fields open the editor, boxes toggle, anything else is clicked on the visitor's page. */
function controlClick(control: ViewerControl, element: Element, id: number): void {
  const tag = element.tagName;
  if (tag === "SELECT") {
    const select = element as HTMLSelectElement;
    return control.edit({ id, kind: "select", options: [...select.options].map((option) => option.text), index: select.selectedIndex });
  }
  if (tag === "TEXTAREA" || (tag === "INPUT" && TEXT_TYPES.has((element.getAttribute("type") ?? "").toLowerCase()))) {
    return control.edit({ id, kind: "text", value: (element as HTMLInputElement).value });
  }
  if (tag === "INPUT" && /^(checkbox|radio)$/i.test(element.getAttribute("type") ?? "")) {
    const box = element as HTMLInputElement;
    return control.act({ kind: "check", id, checked: box.type.toLowerCase() === "radio" ? true : !box.checked });
  }
  control.act({ kind: "click", id });
}

/** The replayed element under a point of the agent's screen, and the point as fractions of its box. */
function hitAt(replayer: Replayer, clientX: number, clientY: number): { element: Element; target: NonNullable<PointerTarget> } | null {
  const iframe = replayer.iframe;
  const doc = iframe.contentDocument;
  if (!doc || !iframe.offsetWidth) return null;
  const frame = iframe.getBoundingClientRect();
  const scale = frame.width / iframe.offsetWidth; // the stage scales the replayed page to fit
  const x = (clientX - frame.left) / scale;
  const y = (clientY - frame.top) / scale;
  const element = doc.elementFromPoint(x, y);
  if (!element) return null;
  const id = replayer.getMirror().getId(element);
  if (id < 0) return null;
  const box = element.getBoundingClientRect();
  const fraction = (offset: number, size: number) => (size > 0 ? Math.min(1, Math.max(0, offset / size)) : 0);
  return { element, target: { id, fx: fraction(x - box.left, box.width), fy: fraction(y - box.top, box.height) } };
}

/** At most one pointer message per 50 ms, the last position always sent. */
class PointerThrottle {
  private last: PointerTarget | undefined;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private sentAt = 0;

  constructor(private readonly send: (target: PointerTarget) => void) {}

  set(target: PointerTarget): void {
    this.last = target;
    if (this.timer) return;
    const wait = Math.max(0, this.sentAt + 50 - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sentAt = Date.now();
      if (this.last !== undefined) this.send(this.last);
      this.last = undefined;
    }, wait);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}
