/**
 * The presence state machine (one-click flow): transition(state, event) → { state, effects }.
 * Pure, like the visitor machine: the background owns the ports, the socket, storage and timers,
 * feeds what happens to them in as events, and carries out the effects.
 *
 * Presence is held while at least one tab of a site with a linked visitor is open (those tabs
 * hold a port to the background). The last port closing starts a short grace (a reload must not
 * flap the agent's record); logout ends presence at once. A share request's dialog is shown in
 * one tab and answered from that tab only; the answer survives the socket (and the worker) being
 * down, and a request already answered is never shown again.
 */
import type { ErrorCode } from "../errors";
import type { Identity } from "../identity";
import type { TermsStatus, VisitorToServer } from "../protocol";
import { backoffDelay } from "../reconnect";

/** Closing the last tab of the site ends presence after this grace (a reload must not flap it). */
export const LAST_TAB_GRACE_MS = 3_000;

export interface PresenceTab {
  origin: string;
  url: string;
  title: string;
  visible: boolean;
  /** When the tab was last seen visible; the most recent one is where presence points and dialogs go. */
  focusedAt: number;
}

/** The share request whose dialog a tab shows. */
export interface ShownRequest {
  id: string;
  tabId: number;
  agent: string;
  /**
   * The site of the tab it is shown in. A restarted worker learns its tabs only as their page
   * scripts reconnect; the answer (from the consent frame) can come first, and the one-click
   * session needs the site to find the visitor's identity.
   */
  origin: string;
  /** The group's name as the welcome gave it when the request came (a restarted worker has none until its own welcome). */
  groupName?: string;
}

export type Link = "off" | "connecting" | "online" | "blurred" | "error";

export interface PresenceState {
  tabs: Record<number, PresenceTab>;
  /** Linked visitor identities by site origin (storage, as last read). */
  identities: Record<string, Identity>;
  /** Whom presence is held for, and whether the login token is still offered. */
  target: { origin: string; identity: Identity; withToken: boolean } | null;
  link: Link;
  verified: boolean;
  error: ErrorCode | null;
  groupName: string;
  /** The socket in use (a number per connect; events from older sockets are ignored), or null. */
  socket: number | null;
  sockets: number;
  /** The error the server sent before closing the current socket. */
  fatal: ErrorCode | null;
  attempt: number;
  grace: "none" | "running" | "expired";
  shown: ShownRequest | null;
  /** The last request answered here: the server's re-send on reconnect must not show it again. */
  answered: string | null;
  /** An answer given while the socket was down, sent once it is back. */
  unsent: { id: string; status: TermsStatus } | null;
  /** The accepted request, waiting for its ticket. */
  accepting: { id: string; tabId: number; origin: string } | null;
}

export function initialPresence(shown: ShownRequest | null = null): PresenceState {
  return {
    tabs: {},
    identities: {},
    target: null,
    link: "off",
    verified: false,
    error: null,
    groupName: "",
    socket: null,
    sockets: 0,
    fatal: null,
    attempt: 0,
    grace: "none",
    shown,
    answered: null,
    unsent: null,
    accepting: null,
  };
}

export type ServerMessage =
  | { t: "shareRequest"; id: string; agent: string }
  | { t: "requestEnded"; id: string }
  | { t: "requestAccepted"; id: string; ticket: string }
  | { t: "presenceBlur" }
  | { t: "error"; code: ErrorCode };

export type PresenceEvent =
  /** Identities were read from storage (start, login, logout). */
  | { type: "identities"; identities: Record<string, Identity> }
  | { type: "tabOpened"; tabId: number; origin: string; url: string; title: string }
  | { type: "tabPage"; tabId: number; url: string; title: string; visible: boolean; now: number }
  | { type: "tabClosed"; tabId: number }
  | { type: "graceOver" }
  | { type: "retry" }
  | { type: "welcome"; socket: number; verified: boolean; groupName: string }
  | { type: "message"; socket: number; message: ServerMessage }
  /** `jitter` in [0, 1): the random part of the reconnect delay. */
  | { type: "closed"; socket: number; jitter: number }
  | { type: "answer"; tabId: number; status: TermsStatus };

export type PresenceEffect =
  /** Close any open socket and open socket number `socket`, saying hello as `identity`. */
  | { type: "connect"; socket: number; identity: Identity }
  | { type: "disconnect" }
  | { type: "send"; message: VisitorToServer }
  | { type: "showTerms"; tabId: number; agent: string; groupName: string }
  | { type: "hideTerms"; tabId: number }
  | { type: "saveShown"; shown: ShownRequest | null }
  | { type: "schedule"; timer: "grace" | "retry"; ms: number }
  | { type: "cancel"; timer: "grace" | "retry" }
  /** Start the one-click session in this tab with the accepted request's ticket. */
  | { type: "accepted"; tabId: number; origin: string; ticket: string }
  /** What the popup and pages show changed. */
  | { type: "changed" };

export interface PresenceTransition {
  state: PresenceState;
  effects: PresenceEffect[];
}

/** Errors after which retrying cannot help: presence shows the error until something changes. */
const TERMINAL: ReadonlySet<ErrorCode> = new Set(["VERIFICATION_REQUIRED", "UNKNOWN_GROUP", "VERSION_MISMATCH"]);

export function transition(state: PresenceState, event: PresenceEvent): PresenceTransition {
  const effects: PresenceEffect[] = [];
  const next = step({ ...state }, event, effects);
  return { state: next, effects };
}

function step(s: PresenceState, event: PresenceEvent, fx: PresenceEffect[]): PresenceState {
  switch (event.type) {
    case "identities":
      return reconcile({ ...s, identities: event.identities }, fx);
    case "tabOpened":
      return reconcile({ ...s, tabs: { ...s.tabs, [event.tabId]: { origin: event.origin, url: event.url, title: event.title, visible: false, focusedAt: 0 } } }, fx);
    case "tabPage": {
      const tab = s.tabs[event.tabId];
      if (!tab) return s;
      const page = { ...tab, url: event.url, title: event.title, visible: event.visible, focusedAt: event.visible ? event.now : tab.focusedAt };
      const next = { ...s, tabs: { ...s.tabs, [event.tabId]: page } };
      if (s.target?.origin === tab.origin) return sendPage(next, fx);
      return reconcile(next, fx);
    }
    case "tabClosed": {
      if (!s.tabs[event.tabId]) return s;
      const tabs = { ...s.tabs };
      delete tabs[event.tabId];
      return reconcile({ ...s, tabs }, fx);
    }
    case "graceOver":
      return s.grace === "running" ? reconcile({ ...s, grace: "expired" }, fx) : s;
    case "retry":
      return s.target && s.socket === null && s.link === "connecting" ? connect(s, fx) : s;
    case "welcome": {
      if (event.socket !== s.socket) return s;
      let next: PresenceState = { ...s, attempt: 0, link: "online", verified: event.verified, groupName: event.groupName, error: null };
      fx.push({ type: "changed" });
      next = sendPage(next, fx);
      if (next.unsent) {
        fx.push({ type: "send", message: { t: "requestAnswer", ...next.unsent } });
        next = { ...next, unsent: null };
      }
      return next;
    }
    case "message":
      return event.socket === s.socket ? onMessage(s, event.message, fx) : s;
    case "closed":
      return event.socket === s.socket ? onClosed(s, event.jitter, fx) : s;
    case "answer":
      return onAnswer(s, event.tabId, event.status, fx);
  }
}

/** Bring the socket in line with the open tabs and the linked identities. */
function reconcile(s: PresenceState, fx: PresenceEffect[]): PresenceState {
  const wanted = Object.entries(s.tabs)
    .filter(([, tab]) => s.identities[tab.origin])
    .sort(([, a], [, b]) => b.focusedAt - a.focusedAt)[0];
  if (!wanted) {
    // The last tab closed (not a logout): wait a moment in case it was a reload.
    const stillLinked = s.target !== null && s.identities[s.target.origin] !== undefined;
    if (stillLinked && s.link !== "off" && s.grace !== "expired") {
      if (s.grace === "running") return s;
      fx.push({ type: "schedule", timer: "grace", ms: LAST_TAB_GRACE_MS });
      return { ...s, grace: "running" };
    }
    return stop(clearGrace(s, fx), fx);
  }
  const [, tab] = wanted;
  const next = clearGrace(s, fx);
  const identity = s.identities[tab.origin]!;
  const same = next.target && next.target.origin === tab.origin && sameIdentity(next.target.identity, identity);
  if (same && next.link !== "off" && next.link !== "error") return sendPage(next, fx);
  const stopped = stop(next, fx);
  return connect({ ...stopped, target: { origin: tab.origin, identity, withToken: Boolean(identity.token) }, attempt: 0 }, fx);
}

function clearGrace(s: PresenceState, fx: PresenceEffect[]): PresenceState {
  if (s.grace === "running") fx.push({ type: "cancel", timer: "grace" });
  return s.grace === "none" ? s : { ...s, grace: "none" };
}

function stop(s: PresenceState, fx: PresenceEffect[]): PresenceState {
  if (s.socket !== null) fx.push({ type: "disconnect" });
  if (s.link === "connecting" && s.socket === null) fx.push({ type: "cancel", timer: "retry" });
  if (s.link !== "off") fx.push({ type: "changed" });
  return { ...s, socket: null, fatal: null, target: null, link: "off", verified: false, error: null };
}

function connect(s: PresenceState, fx: PresenceEffect[]): PresenceState {
  const target = s.target!;
  const socket = s.sockets + 1;
  const identity = target.withToken ? target.identity : { ...target.identity, token: null };
  fx.push({ type: "connect", socket, identity }, { type: "changed" });
  return { ...s, socket, sockets: socket, fatal: null, link: "connecting" };
}

function focusedTab(s: PresenceState): number | null {
  const origin = s.target?.origin;
  const tabs = Object.entries(s.tabs).filter(([, tab]) => tab.origin === origin);
  tabs.sort(([, a], [, b]) => b.focusedAt - a.focusedAt);
  return tabs[0] ? Number(tabs[0][0]) : null;
}

function sendPage(s: PresenceState, fx: PresenceEffect[]): PresenceState {
  const tabId = focusedTab(s);
  if (tabId === null || (s.link !== "online" && s.link !== "blurred")) return s;
  const tab = s.tabs[tabId]!;
  fx.push({ type: "send", message: { t: "presence", url: tab.url, title: tab.title, visible: tab.visible } });
  return s;
}

function onMessage(s: PresenceState, message: ServerMessage, fx: PresenceEffect[]): PresenceState {
  switch (message.t) {
    case "shareRequest": {
      if (message.id === s.answered) return s;
      // The same request again (a reconnect) stays in its tab; a new one goes to the focused tab.
      const same = s.shown?.id === message.id && s.tabs[s.shown.tabId] ? s.shown.tabId : null;
      const tabId = same ?? focusedTab(s);
      if (tabId === null) return s;
      const shown = { id: message.id, tabId, agent: message.agent, origin: s.tabs[tabId]!.origin, groupName: s.groupName };
      fx.push({ type: "saveShown", shown }, { type: "showTerms", tabId, agent: message.agent, groupName: s.groupName });
      return { ...s, shown };
    }
    case "requestEnded": {
      if (s.shown?.id !== message.id) return s;
      fx.push({ type: "saveShown", shown: null });
      if (s.tabs[s.shown.tabId]) fx.push({ type: "hideTerms", tabId: s.shown.tabId });
      return { ...s, shown: null };
    }
    case "requestAccepted": {
      const accepting = s.accepting;
      if (!accepting || accepting.id !== message.id) return s;
      fx.push({ type: "accepted", tabId: accepting.tabId, origin: accepting.origin, ticket: message.ticket });
      return { ...s, accepting: null };
    }
    case "presenceBlur":
      fx.push({ type: "changed" });
      return { ...s, link: "blurred" };
    case "error":
      return { ...s, fatal: message.code };
  }
}

function onClosed(s: PresenceState, jitter: number, fx: PresenceEffect[]): PresenceState {
  const target = s.target!;
  const closed = { ...s, socket: null };
  if (s.fatal === "TOKEN_INVALID" && target.withToken) {
    // A token only lives minutes; after it expires presence goes on unverified (the agent sees that).
    return connect({ ...closed, target: { ...target, withToken: false } }, fx);
  }
  fx.push({ type: "changed" });
  if (s.fatal && TERMINAL.has(s.fatal)) return { ...closed, link: "error", error: s.fatal, verified: false };
  const delay = backoffDelay(s.attempt, () => jitter) ?? 30_000;
  fx.push({ type: "schedule", timer: "retry", ms: delay });
  return { ...closed, link: "connecting", attempt: s.attempt + 1 };
}

function onAnswer(s: PresenceState, tabId: number, status: TermsStatus, fx: PresenceEffect[]): PresenceState {
  const shown = s.shown;
  if (!shown || shown.tabId !== tabId) return s; // only the tab that was asked may answer
  let next = s;
  if (status !== "displayed") {
    // The consent frame is the extension's: it does not take itself out of the page.
    fx.push({ type: "saveShown", shown: null }, { type: "hideTerms", tabId });
    next = { ...next, shown: null, answered: shown.id };
  }
  if (status === "accepted") next = { ...next, accepting: { id: shown.id, tabId, origin: shown.origin } };
  const answer = { id: shown.id, status };
  if (s.link === "online") fx.push({ type: "send", message: { t: "requestAnswer", ...answer } });
  else if (status !== "displayed") next = { ...next, unsent: answer };
  return next;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.visitorId === b.visitorId && a.token === b.token;
}
