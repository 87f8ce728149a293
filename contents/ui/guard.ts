/**
 * Clicks that count. A page cannot click Glimpse's buttons (its clicks are untrusted), but it can
 * try to make the visitor click them without knowing: draw its own label over Accept with
 * `pointer-events: none`, fade or transform the dialog, or slide it under the cursor just before a
 * click the page asked for. A guarded control therefore only acts on a trusted event, once it has
 * been on screen for ARM_MS, and — where the browser can tell (Chromium's IntersectionObserver v2,
 * `trackVisibility`) — only while nothing covers it and no opacity, filter or transform is applied
 * to it or to anything around it, across frames. Firefox has no such observer: there the rest holds.
 */

/** How long a control must have been on screen, unobstructed, before a click on it counts. */
export const ARM_MS = 500;

/** "arming": just shown (or just uncovered); "armed": a click counts; "obscured": covered or altered by the page. */
export type GuardState = "arming" | "armed" | "obscured";

export interface Guard {
  state(): GuardState;
  /** Whether a click with this event counts now. */
  allows(event: Event): boolean;
  stop(): void;
}

interface VisibilityEntry extends IntersectionObserverEntry {
  isVisible?: boolean;
}

export function canTrackVisibility(): boolean {
  return typeof IntersectionObserverEntry !== "undefined" && "isVisible" in IntersectionObserverEntry.prototype;
}

export function guard(element: Element, onChange: (state: GuardState) => void): Guard {
  let state: GuardState = "arming";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const set = (next: GuardState) => {
    if (next === state) return;
    state = next;
    onChange(next);
  };
  const arm = () => {
    clearTimeout(timer);
    set("arming");
    timer = setTimeout(() => set("armed"), ARM_MS);
  };
  let observer: IntersectionObserver | null = null;
  if (canTrackVisibility()) {
    observer = new IntersectionObserver(
      (entries) => {
        const visible = (entries[entries.length - 1] as VisibilityEntry).isVisible === true;
        if (!visible) {
          clearTimeout(timer);
          set("obscured");
        } else if (state === "obscured" || timer === undefined) {
          arm();
        }
      },
      { trackVisibility: true, delay: 100 } as IntersectionObserverInit,
    );
    observer.observe(element);
  } else {
    arm();
  }
  return {
    state: () => state,
    allows: (event) => event.isTrusted && state === "armed",
    stop() {
      clearTimeout(timer);
      observer?.disconnect();
    },
  };
}
