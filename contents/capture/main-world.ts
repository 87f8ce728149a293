/**
 * Injected into the shared tab's MAIN world, only while a session records (background/capture.ts).
 * The isolated-world recorder cannot see what page scripts do through the CSSOM, to form
 * properties or to canvases; this script notices those calls and says *which node* changed by
 * dispatching CHANGE_EVENT on it. It sends no content: the recorder re-reads the node itself and
 * masks there (main-world.design.md).
 */
import { CHANGE_EVENT } from "~src/capture/page-events";

type Adopter = Document | ShadowRoot;
const MARK = Symbol.for("glimpse.capture.main");
const w = window as unknown as Record<symbol, boolean>;

if (!w[MARK]) {
  w[MARK] = true;
  install();
}

function install(): void {
  const dispatch = EventTarget.prototype.dispatchEvent;
  const notify = (target: EventTarget | null | undefined) => {
    if (!target) return;
    try {
      dispatch.call(target, new Event(CHANGE_EVENT, { bubbles: true, composed: true }));
    } catch {
      // a detached node or a frozen target: nothing to tell
    }
  };

  /** Which documents / shadow roots adopted a constructed sheet (it has no owner node). */
  const adopters = new WeakMap<CSSStyleSheet, Set<Adopter>>();
  const remember = (adopter: Adopter) => {
    for (const sheet of adopter.adoptedStyleSheets ?? []) {
      let set = adopters.get(sheet);
      if (!set) adopters.set(sheet, (set = new Set()));
      set.add(adopter);
    }
  };
  // Sheets adopted before this script arrived are found once, on the first change to one of them.
  let seeded = false;
  const seed = () => {
    seeded = true;
    remember(document);
    const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_ELEMENT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const shadow = (node as Element).shadowRoot;
      if (shadow) remember(shadow);
    }
  };
  const notifySheet = (sheet: CSSStyleSheet | null | undefined) => {
    let root = sheet;
    while (root?.parentStyleSheet) root = root.parentStyleSheet; // an @import inside a sheet
    if (!root) return;
    if (root.ownerNode) return notify(root.ownerNode);
    if (!adopters.has(root) && !seeded) seed();
    for (const adopter of adopters.get(root) ?? []) notify(adopter);
  };

  /** Wraps a method: call it, then notify about `target(this)`. Native behaviour is unchanged. */
  const after = <T extends object>(proto: T | undefined, name: string, target: (self: never) => void) => {
    if (!proto) return;
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    const original = descriptor?.value as ((...args: unknown[]) => unknown) | undefined;
    if (typeof original !== "function" || !descriptor?.configurable) return;
    Object.defineProperty(proto, name, {
      ...descriptor,
      value: function (this: never, ...args: unknown[]) {
        const result = original.apply(this, args);
        target(this);
        return result;
      },
    });
  };
  /** Wraps a setter the same way. */
  const afterSet = <T extends object>(proto: T | undefined, name: string, target: (self: never) => void) => {
    if (!proto) return;
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    const set = descriptor?.set;
    if (!set || !descriptor.configurable) return;
    Object.defineProperty(proto, name, {
      ...descriptor,
      set: function (this: never, value: unknown) {
        set.call(this, value);
        target(this);
      },
    });
  };

  // CSSOM: rules added, removed, replaced; declarations edited inside rules.
  const sheetSelf = (self: CSSStyleSheet) => notifySheet(self);
  for (const name of ["insertRule", "deleteRule", "addRule", "removeRule", "replaceSync"]) after(CSSStyleSheet.prototype, name, sheetSelf);
  const replace = CSSStyleSheet.prototype.replace;
  if (typeof replace === "function") {
    CSSStyleSheet.prototype.replace = function (this: CSSStyleSheet, text: string) {
      return replace.call(this, text).then((sheet) => (notifySheet(this), sheet));
    };
  }
  const groupSelf = (self: CSSGroupingRule) => notifySheet(self.parentStyleSheet);
  for (const name of ["insertRule", "deleteRule"]) after(globalThis.CSSGroupingRule?.prototype, name, groupSelf);
  const declarationSelf = (self: CSSStyleDeclaration) => notifySheet(self.parentRule?.parentStyleSheet);
  for (const name of ["setProperty", "removeProperty"]) after(CSSStyleDeclaration.prototype, name, declarationSelf);
  afterSet(CSSStyleDeclaration.prototype, "cssText", declarationSelf);

  // Constructed sheets: remember who adopted them, then say the adopter changed.
  const adopt = (self: Adopter) => {
    remember(self);
    notify(self);
  };
  afterSet(Document.prototype, "adoptedStyleSheets", adopt);
  afterSet(globalThis.ShadowRoot?.prototype, "adoptedStyleSheets", adopt);

  // Form state written by script (input.value = "", checkbox.checked = true, select.value = …).
  const element = (self: Element) => notify(self);
  afterSet(HTMLInputElement.prototype, "value", element);
  afterSet(HTMLInputElement.prototype, "checked", element);
  afterSet(HTMLTextAreaElement.prototype, "value", element);
  afterSet(HTMLSelectElement.prototype, "value", element);
  afterSet(HTMLSelectElement.prototype, "selectedIndex", element);
  afterSet(HTMLOptionElement.prototype, "selected", element);

  // Canvas drawing: at most one notification per canvas per animation frame.
  const drawn = new Set<HTMLCanvasElement>();
  let frame = 0;
  const canvasOf = (self: { canvas?: unknown }) => {
    const canvas = self.canvas;
    if (!(canvas instanceof HTMLCanvasElement) || drawn.has(canvas)) return;
    drawn.add(canvas);
    notify(canvas);
    frame ||= requestAnimationFrame(() => {
      frame = 0;
      drawn.clear();
    });
  };
  const draws2d = ["fill", "fillRect", "fillText", "stroke", "strokeRect", "strokeText", "clearRect", "drawImage", "putImageData", "reset"];
  for (const name of draws2d) after(globalThis.CanvasRenderingContext2D?.prototype, name, canvasOf);
  for (const gl of [globalThis.WebGLRenderingContext, globalThis.WebGL2RenderingContext]) {
    for (const name of ["drawArrays", "drawElements", "clear"]) after(gl?.prototype, name, canvasOf);
  }
}
