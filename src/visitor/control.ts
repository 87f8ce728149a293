/**
 * Remote control's consent, on the visitor's side (#14): an agent asks; the visitor's own click
 * grants or declines it; while granted, the agent's actions are done on the page; the visitor's own
 * moving or typing suspends control until they have been still for SUSPEND_MS (Glance's
 * "suspended"); the visitor's Stop (or Escape) revokes it; the agent may release it. Pure: the
 * background (background/control.ts) carries out the effects.
 */
import type { ControlAction } from "../protocol";

/** How long the visitor must leave the page alone before a suspended control resumes. */
export const SUSPEND_MS = 2_000;

export type ControlView = { agent: string; state: "asked" | "granted" | "suspended" } | null;

export type ControlEvent =
  | { type: "requested"; agent: string }
  /** The visitor's answer in the dialog. */
  | { type: "answer"; allow: boolean }
  /** The visitor's Stop control or Escape; also a pause of sharing. */
  | { type: "stop" }
  /** The agent gave control up, or left. */
  | { type: "released"; agent: string }
  /** The visitor moved, clicked, scrolled or typed on the page. */
  | { type: "activity" }
  /** SUSPEND_MS without activity since the last. */
  | { type: "idle" }
  | { type: "action"; agent: string; action: ControlAction }
  /** The session ended: nothing to tell anyone. */
  | { type: "reset" };

export type ControlEffect =
  /** Tell the server (and so the agents) what became of control. */
  | { type: "send"; state: "granted" | "suspended" | "declined" | "revoked" }
  | { type: "apply"; action: ControlAction }
  /** (Re)start the SUSPEND_MS timer that ends a suspension. */
  | { type: "idleTimer" }
  /** Listen for the visitor's own input on the page (only while control is granted or suspended). */
  | { type: "watch"; on: boolean };

const result = (state: ControlView, ...effects: ControlEffect[]) => ({ state, effects });

export function controlTransition(state: ControlView, event: ControlEvent): { state: ControlView; effects: ControlEffect[] } {
  const active = state?.state === "granted" || state?.state === "suspended";
  switch (event.type) {
    case "requested":
      // One agent at a time (the server refuses a second); the same agent asking again changes nothing.
      return result(state ?? { agent: event.agent, state: "asked" });
    case "answer":
      if (state?.state !== "asked") return result(state);
      return event.allow
        ? result({ agent: state.agent, state: "granted" }, { type: "send", state: "granted" }, { type: "watch", on: true })
        : result(null, { type: "send", state: "declined" });
    case "stop":
      if (!state) return result(null);
      return active ? result(null, { type: "send", state: "revoked" }, { type: "watch", on: false }) : result(null, { type: "send", state: "declined" });
    case "released":
      if (state?.agent !== event.agent) return result(state);
      return active ? result(null, { type: "watch", on: false }) : result(null);
    case "activity":
      if (state?.state === "granted") return result({ ...state, state: "suspended" }, { type: "send", state: "suspended" }, { type: "idleTimer" });
      return state?.state === "suspended" ? result(state, { type: "idleTimer" }) : result(state);
    case "idle":
      return state?.state === "suspended" ? result({ ...state, state: "granted" }, { type: "send", state: "granted" }) : result(state);
    case "action":
      if (state?.state === "granted" && state.agent === event.agent) return result(state, { type: "apply", action: event.action });
      // The server thinks this agent has control and we do not (a restarted background): say so.
      return state ? result(state) : result(null, { type: "send", state: "revoked" });
    case "reset":
      return active ? result(null, { type: "watch", on: false }) : result(null);
  }
}
