/**
 * Applies Glimpse's own page events (src/capture/page-events.ts) to the replayed page: CSSOM rule
 * changes, adopted sheets, canvas pictures, video frames and multi-select state that rrweb's stream lacks.
 */
import type { Replayer } from "rrweb";
import { ADOPTED_EVENT, applySplice, CANVAS_EVENT, SELECT_EVENT, SHEET_EVENT, VIDEO_EVENT, type AdoptedChange, type CanvasChange, type SelectChange, type SheetChange } from "~src/capture/page-events";

export function applyPageEvent(replayer: Replayer, tag: string, payload: unknown): void {
  const node = (id: number) => replayer.getMirror().getNode(id) as Node | null;
  try {
    if (tag === SHEET_EVENT) {
      const change = payload as SheetChange;
      const owner = node(change.id) as HTMLStyleElement | null;
      if (owner?.sheet) replaceRules(owner.sheet, change);
    } else if (tag === ADOPTED_EVENT) {
      const change = payload as AdoptedChange;
      const target = node(change.id);
      const root = change.shadow ? (target as Element | null)?.shadowRoot : (target as Document | null);
      const view = (target?.ownerDocument ?? (target as Document | null))?.defaultView as (Window & typeof globalThis) | null | undefined;
      if (!root || !view) return;
      root.adoptedStyleSheets = change.sheets.map((rules) => {
        const sheet = new view.CSSStyleSheet();
        replaceRules(sheet, { index: 0, remove: -1, rules });
        return sheet;
      });
    } else if (tag === CANVAS_EVENT) {
      const change = payload as CanvasChange;
      const canvas = node(change.id) as HTMLCanvasElement | null;
      if (!canvas?.style || !change.dataUrl.startsWith("data:image/")) return;
      showPicture(canvas, change.dataUrl);
    } else if (tag === VIDEO_EVENT) {
      // The frame is the video's poster: shown until the replayed video has frames of its own
      // (a carried file that plays in step), and in place of a stream the agent cannot load.
      const change = payload as CanvasChange;
      const video = node(change.id) as HTMLVideoElement | null;
      if (video?.nodeName === "VIDEO" && change.dataUrl.startsWith("data:image/")) video.setAttribute("poster", change.dataUrl);
    } else if (tag === SELECT_EVENT) {
      const change = payload as SelectChange;
      const select = node(change.id) as HTMLSelectElement | null;
      if (!select?.options) return;
      const selected = new Set(change.selected);
      [...select.options].forEach((option, index) => (option.selected = selected.has(index)));
    }
  } catch {
    // a page event that no longer fits the replayed page (the node went away) is dropped
  }
}

/**
 * The replayed page runs no script, and a canvas without script shows its fallback content (no
 * box, no bitmap): the picture is painted as the element's background instead, at the size the
 * canvas has on the visitor's page (its attributes, unless the page's CSS sizes it).
 */
function showPicture(canvas: HTMLCanvasElement, dataUrl: string): void {
  const style = canvas.style;
  const view = canvas.ownerDocument.defaultView;
  if (!view) return;
  style.setProperty("background-image", `url("${dataUrl}")`, "important");
  style.setProperty("background-size", "100% 100%", "important");
  style.setProperty("background-repeat", "no-repeat", "important");
  if (view.getComputedStyle(canvas).display === "inline") style.setProperty("display", "inline-block");
  const computed = view.getComputedStyle(canvas);
  if (computed.width === "0px" || computed.width === "auto") style.setProperty("width", `${canvas.width}px`);
  if (computed.height === "0px" || computed.height === "auto") style.setProperty("height", `${canvas.height}px`);
}

/** Splices the sheet's rules; a rule this browser cannot parse keeps its place as an empty rule. */
function replaceRules(sheet: CSSStyleSheet, change: Pick<SheetChange, "index" | "remove" | "rules">): void {
  const current = [...sheet.cssRules].map((rule) => rule.cssText);
  const next = applySplice(current, change);
  const start = change.remove < 0 ? 0 : change.index;
  for (let i = current.length - 1; i >= start; i--) sheet.deleteRule(i);
  for (let i = start; i < next.length; i++) {
    try {
      sheet.insertRule(next[i]!, i);
    } catch {
      sheet.insertRule("glimpse-unparsed {}", i);
    }
  }
}
