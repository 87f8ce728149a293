/**
 * What the page's MAIN world may tell the recorder, and the custom events the recorder adds to the
 * rrweb stream for what rrweb cannot see from the isolated world (DESIGN §3). See
 * contents/capture/main-world.design.md for why a forged notification gains a page nothing.
 */

/** DOM event the MAIN-world script dispatches on a node whose state page script changed. */
export const CHANGE_EVENT = "glimpse-capture-change";

/** Custom rrweb event: the rules of a <style>/<link> sheet changed (CSSOM insertRule and friends). */
export const SHEET_EVENT = "glimpse-sheet";
/** Custom rrweb event: the adopted (constructed) sheets of a document or shadow root changed. */
export const ADOPTED_EVENT = "glimpse-adopted";
/** Custom rrweb event: a canvas's current picture. */
export const CANVAS_EVENT = "glimpse-canvas";
/** Custom rrweb event: a video's current frame (shown to the agent as its poster). */
export const VIDEO_EVENT = "glimpse-video";
/** Custom rrweb event: which options of a select are selected (multiple selects). */
export const SELECT_EVENT = "glimpse-select";

/**
 * Rules replaced in a sheet: delete `remove` rules at `index`, then insert `rules` there.
 * `remove: -1` replaces all rules (the first change after a snapshot).
 */
export interface SheetChange {
  id: number;
  index: number;
  remove: number;
  rules: string[];
}

/** The whole list of adopted sheets of a node (document or shadow root host), as rule texts. */
export interface AdoptedChange {
  /** Mirror id of the document, or of the shadow root's host element. */
  id: number;
  shadow: boolean;
  sheets: string[][];
}

export interface CanvasChange {
  id: number;
  dataUrl: string;
}

export interface SelectChange {
  id: number;
  selected: number[];
}

/**
 * The smallest splice turning `before` into `after` (common head and tail kept). CSS-in-JS
 * libraries append or insert a few rules at a time, so a change is usually a short splice.
 */
export function diffRules(before: readonly string[], after: readonly string[]): { index: number; remove: number; rules: string[] } | null {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  if (head === before.length && head === after.length) return null;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail++;
  return { index: head, remove: before.length - head - tail, rules: after.slice(head, after.length - tail) };
}

/** Applies a splice from diffRules (what the console does to the replayed sheet). */
export function applySplice(rules: readonly string[], change: { index: number; remove: number; rules: string[] }): string[] {
  if (change.remove < 0) return [...change.rules];
  return [...rules.slice(0, change.index), ...change.rules, ...rules.slice(change.index + change.remove)];
}
