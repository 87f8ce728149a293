/**
 * Remote control on the shared page (#14): do the controlling agent's action on the node the
 * recorder knows by that id, and hear the visitor's own input. Runs in the isolated world, beside
 * the recorder: the page sees the resulting DOM events as it would from any script (untrusted), so
 * they never count as the visitor's activity.
 *
 * Masked fields (passwords, payment fields, the site's rules) are never typed into, chosen, ticked
 * or clicked, and links leave the shared site never: the page does nothing and the agent is told.
 */
import { isSensitiveField, type MaskRules } from "~src/capture/masking";
import type { ControlAction, ControlRefusal } from "~src/protocol";

/** Input types an agent may type into (the rest are clicked, ticked or chosen). */
const TEXT_TYPES = new Set(["", "text", "search", "email", "tel", "url", "number"]);

export function applyControl(action: ControlAction, nodeById: (id: number) => Node | null, rules: MaskRules): ControlRefusal | null {
  if (action.kind === "scroll") {
    window.scrollTo(action.x, action.y);
    return null;
  }
  const node = nodeById(action.id);
  const element = node instanceof Element ? node : node?.parentElement ?? null;
  if (!element?.isConnected) return "missing";
  if (isSensitiveField(element, rules) || masksAround(element, rules)) return "masked";
  switch (action.kind) {
    case "click": {
      const link = element.closest("a[href]") as HTMLAnchorElement | null;
      if (link && !sameSite(link.href)) return "offsite";
      const submits = (element instanceof HTMLButtonElement || element instanceof HTMLInputElement) && element.type === "submit" && element.form;
      if (submits && !sameSite(element.formAction || element.form!.action)) return "offsite";
      if (element instanceof HTMLElement) {
        element.focus({ preventScroll: true });
        element.click();
        return null;
      }
      element.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, composed: true }));
      return null;
    }
    case "input": {
      const field = element instanceof HTMLTextAreaElement || (element instanceof HTMLInputElement && TEXT_TYPES.has(element.type)) ? element : null;
      if (!field || field.disabled || field.readOnly) return "unsupported";
      field.focus({ preventScroll: true });
      field.value = action.value;
      field.dispatchEvent(new InputEvent("input", { bubbles: true, composed: true, inputType: "insertReplacementText" }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
      return null;
    }
    case "select": {
      if (!(element instanceof HTMLSelectElement) || element.disabled || action.index >= element.options.length) return "unsupported";
      element.selectedIndex = action.index;
      element.dispatchEvent(new Event("input", { bubbles: true, composed: true }));
      element.dispatchEvent(new Event("change", { bubbles: true }));
      return null;
    }
    case "check": {
      const box = element instanceof HTMLInputElement && (element.type === "checkbox" || element.type === "radio") ? element : null;
      if (!box || box.disabled) return "unsupported";
      // A click toggles it the way the visitor's would, with the events the page listens for.
      if (box.checked !== action.checked) box.click();
      return null;
    }
  }
}

/** A click on an element inside a masked field's label or block is as good as typing into it. */
function masksAround(element: Element, rules: MaskRules): boolean {
  const label = element.closest("label");
  const control = label instanceof HTMLLabelElement ? label.control : null;
  return control !== null && isSensitiveField(control, rules);
}

function sameSite(href: string): boolean {
  try {
    const url = new URL(href, location.href);
    // Same-page links (#...) and javascript: links the page's own handlers run stay on the page.
    return url.origin === location.origin || url.protocol === "javascript:";
  } catch {
    return false;
  }
}

/** Report the visitor's own input (trusted events only) at most every `everyMs`, and Escape at once. */
export function watchActivity(onActivity: () => void, onEscape: () => void, everyMs = 200): () => void {
  let last = 0;
  let mouse: { x: number; y: number } | null = null;
  const listening = new AbortController();
  const onInput = (event: Event) => {
    if (!event.isTrusted) return;
    if (event instanceof KeyboardEvent && event.key === "Escape") return onEscape();
    if (event.type === "mousemove") {
      // The browser sends a mousemove of its own when the page scrolls or changes under a still
      // mouse (the agent's doing): only a mouse that moved on the screen is the visitor's.
      const { screenX: x, screenY: y } = event as MouseEvent;
      const moved = mouse !== null && Math.abs(x - mouse.x) + Math.abs(y - mouse.y) > 1;
      mouse = { x, y };
      if (!moved) return;
    }
    const now = performance.now();
    if (now - last < everyMs) return;
    last = now;
    onActivity();
  };
  for (const type of ["pointerdown", "keydown", "wheel", "mousemove", "touchstart"]) {
    window.addEventListener(type, onInput, { capture: true, passive: true, signal: listening.signal });
  }
  return () => listening.abort();
}
