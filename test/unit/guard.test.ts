/** The click guard's states (contents/ui/guard.ts), with a stand-in IntersectionObserver v2. */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ARM_MS, guard, type GuardState } from "../../contents/ui/guard";

type Callback = (entries: { isVisible: boolean }[]) => void;
let report: Callback = () => {};
const observed: { options: unknown }[] = [];

function installObserver(trackVisibility: boolean): void {
  class Entry {}
  if (trackVisibility) Object.defineProperty(Entry.prototype, "isVisible", { value: false });
  vi.stubGlobal("IntersectionObserverEntry", Entry);
  vi.stubGlobal(
    "IntersectionObserver",
    class {
      constructor(callback: Callback, options: unknown) {
        report = callback;
        observed.push({ options });
      }
      observe() {}
      disconnect() {}
    },
  );
}

const click = (isTrusted = true) => ({ isTrusted }) as Event;
const element = {} as Element;

beforeEach(() => {
  vi.useFakeTimers();
  observed.length = 0;
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("click guard with visibility tracking (Chromium)", () => {
  it("arms only after the control has been fully visible for ARM_MS, and disarms while covered", () => {
    installObserver(true);
    const states: GuardState[] = [];
    const g = guard(element, (s) => states.push(s));
    expect(observed[0]!.options).toMatchObject({ trackVisibility: true });
    expect(g.allows(click())).toBe(false); // nothing reported yet

    report([{ isVisible: true }]);
    vi.advanceTimersByTime(ARM_MS - 1);
    expect(g.allows(click())).toBe(false);
    vi.advanceTimersByTime(1);
    expect(g.state()).toBe("armed");
    expect(g.allows(click())).toBe(true);
    expect(g.allows(click(false))).toBe(false); // a script's click never counts

    report([{ isVisible: false }]); // a page overlay, or opacity/filter/transform around it
    expect(g.state()).toBe("obscured");
    expect(g.allows(click())).toBe(false);
    report([{ isVisible: true }]); // uncovered: it waits ARM_MS again before a click counts
    expect(g.state()).toBe("arming");
    vi.advanceTimersByTime(ARM_MS);
    expect(states).toEqual(["armed", "obscured", "arming", "armed"]);
  });

  it("covered before it was ever armed: no click counts until it has been visible for ARM_MS", () => {
    installObserver(true);
    const g = guard(element, () => {});
    report([{ isVisible: true }]);
    vi.advanceTimersByTime(ARM_MS / 2);
    report([{ isVisible: false }]);
    vi.advanceTimersByTime(ARM_MS * 4);
    expect(g.allows(click())).toBe(false);
    g.stop();
  });
});

describe("click guard without visibility tracking (Firefox)", () => {
  it("arms ARM_MS after it appears, and takes trusted clicks only", () => {
    installObserver(false);
    const g = guard(element, () => {});
    expect(observed).toEqual([]);
    expect(g.allows(click())).toBe(false);
    vi.advanceTimersByTime(ARM_MS);
    expect(g.allows(click())).toBe(true);
    expect(g.allows(click(false))).toBe(false);
  });
});
