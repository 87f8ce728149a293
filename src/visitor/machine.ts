/**
 * The visitor's session state machine: transition(state, event) → { state, effects }.
 * Pure: the background owns the socket, storage, tabs and clock and carries out the effects.
 * The state is persisted after every transition, so a restarted background resumes from it.
 */
import type { EndReason, KeyType, VisitorToServer } from "../protocol";
import type { ErrorCode } from "../errors";

export interface Ended {
  reason: EndReason | "error";
  /** The tab that was shared (or was about to be): the notice shows there. */
  tabId: number;
  code: ErrorCode | null;
  at: number;
  sessionKey: string | null;
}

export interface Guests {
  count: number;
  agents: string[];
}

export type VisitorState =
  | { status: "idle"; lastEnded: Ended | null }
  | { status: "starting"; tabId: number; site: string; keyType: KeyType }
  | {
      status: "live";
      tabId: number;
      site: string;
      keyType: KeyType;
      sessionKey: string;
      resumeToken: string;
      startedAt: number;
      guests: Guests;
      /** Every agent who joined at some point, for the session history. */
      agentsSeen: string[];
      connection: "online" | "reconnecting";
      /** The visitor paused sharing: nothing of the page is recorded or sent until they resume. */
      paused?: boolean;
    };

export const INITIAL_STATE: VisitorState = { status: "idle", lastEnded: null };

export type VisitorEvent =
  | { type: "share"; tabId: number; site: string; keyType: KeyType }
  | { type: "stop"; now: number }
  /** The visitor closed the "session ended" notice. */
  | { type: "dismiss" }
  | { type: "pauseShare" }
  | { type: "resumeShare" }
  | { type: "tabClosed"; tabId: number; now: number }
  /** The socket is open and the server welcomed us. */
  | { type: "connected" }
  | { type: "disconnected"; now: number }
  | { type: "started"; sessionKey: string; keyType: KeyType; resumeToken: string; now: number }
  | { type: "resumed"; count: number; agents: string[] }
  | { type: "guests"; count: number; agents: string[] }
  | { type: "snapshotRequest" }
  | { type: "ended"; reason: EndReason; now: number }
  | { type: "error"; code: ErrorCode; now: number };

export type Effect =
  /** Open the session socket; a one-click session presents the visitor's identity for `site`. */
  | { type: "connect"; keyType: KeyType; site: string }
  | { type: "reconnect"; resume: { sessionKey: string; token: string } }
  | { type: "disconnect" }
  | { type: "send"; message: VisitorToServer }
  | { type: "startCapture"; tabId: number }
  | { type: "stopCapture"; tabId: number }
  | { type: "requestSnapshot"; tabId: number }
  | { type: "historyStart"; sessionKey: string; keyType: KeyType; site: string; at: number }
  | { type: "historyEnd"; sessionKey: string; reason: Ended["reason"]; agents: string[]; at: number }
  | { type: "rejected"; code: ErrorCode };

export interface Transition {
  state: VisitorState;
  effects: Effect[];
}

/** Errors after which a live session cannot go on. Others (a dropped bad frame) are reported only. */
const FATAL_WHILE_LIVE: ReadonlySet<ErrorCode> = new Set([
  "RESUME_FAILED",
  "UNKNOWN_GROUP",
  "VERSION_MISMATCH",
  "SESSION_ENDED",
  // Raised by the background when reconnecting gave up.
  "SERVER_UNREACHABLE",
]);

export function transition(state: VisitorState, event: VisitorEvent): Transition {
  switch (state.status) {
    case "idle":
      return fromIdle(state, event);
    case "starting":
      return fromStarting(state, event);
    case "live":
      return fromLive(state, event);
  }
}

const stay = (state: VisitorState, effects: Effect[] = []): Transition => ({ state, effects });

function fromIdle(state: Extract<VisitorState, { status: "idle" }>, event: VisitorEvent): Transition {
  switch (event.type) {
    case "share":
      return {
        state: { status: "starting", tabId: event.tabId, site: event.site, keyType: event.keyType },
        effects: [{ type: "connect", keyType: event.keyType, site: event.site }],
      };
    case "stop":
      return stay(state, [{ type: "rejected", code: "INVALID_STATE" }]);
    case "dismiss":
      return stay({ status: "idle", lastEnded: null });
    case "connected":
      // A socket we no longer need (e.g. a stale reconnect): close it.
      return stay(state, [{ type: "disconnect" }]);
    default:
      return stay(state);
  }
}

function fromStarting(state: Extract<VisitorState, { status: "starting" }>, event: VisitorEvent): Transition {
  const fail = (code: ErrorCode, now: number): Transition => ({
    state: { status: "idle", lastEnded: { reason: "error", code, at: now, sessionKey: null, tabId: state.tabId } },
    effects: [{ type: "disconnect" }],
  });
  switch (event.type) {
    case "connected":
      return stay(state, [{ type: "send", message: { t: "startSession", keyType: state.keyType, site: state.site } }]);
    case "started":
      return {
        state: {
          status: "live",
          tabId: state.tabId,
          site: state.site,
          keyType: event.keyType,
          sessionKey: event.sessionKey,
          resumeToken: event.resumeToken,
          startedAt: event.now,
          guests: { count: 0, agents: [] },
          agentsSeen: [],
          connection: "online",
        },
        effects: [
          { type: "startCapture", tabId: state.tabId },
          { type: "historyStart", sessionKey: event.sessionKey, keyType: event.keyType, site: state.site, at: event.now },
        ],
      };
    case "error":
      return fail(event.code, event.now);
    case "disconnected":
      return fail("SERVER_UNREACHABLE", event.now);
    case "stop":
      return { state: { status: "idle", lastEnded: null }, effects: [{ type: "disconnect" }] };
    case "tabClosed":
      return event.tabId === state.tabId ? { state: { status: "idle", lastEnded: null }, effects: [{ type: "disconnect" }] } : stay(state);
    case "share":
      return stay(state, [{ type: "rejected", code: "INVALID_STATE" }]);
    default:
      return stay(state);
  }
}

function fromLive(state: Extract<VisitorState, { status: "live" }>, event: VisitorEvent): Transition {
  const end = (reason: Ended["reason"], code: ErrorCode | null, now: number, extra: Effect[] = []): Transition => ({
    state: { status: "idle", lastEnded: { reason, code, at: now, sessionKey: state.sessionKey, tabId: state.tabId } },
    effects: [
      ...extra,
      { type: "stopCapture", tabId: state.tabId },
      { type: "disconnect" },
      { type: "historyEnd", sessionKey: state.sessionKey, reason, agents: state.agentsSeen, at: now },
    ],
  });
  const resume = { sessionKey: state.sessionKey, token: state.resumeToken };
  switch (event.type) {
    case "stop":
      return end("visitor_stopped", null, event.now, [{ type: "send", message: { t: "endSession" } }]);
    case "tabClosed":
      return event.tabId === state.tabId
        ? end("visitor_stopped", null, event.now, [{ type: "send", message: { t: "endSession" } }])
        : stay(state);
    case "ended":
      return end(event.reason, null, event.now);
    case "error":
      return FATAL_WHILE_LIVE.has(event.code) ? end("error", event.code, event.now) : stay(state);
    case "guests":
    case "resumed": {
      const agentsSeen = [...new Set([...state.agentsSeen, ...event.agents])];
      const next = { ...state, guests: { count: event.count, agents: event.agents }, agentsSeen, connection: "online" as const };
      // Frames sent while the socket was down are lost: after a resume the agents need a new base;
      // while paused, the placeholder again (a restarted server does not remember it).
      if (event.type !== "resumed") return stay(next);
      return stay(next, [state.paused ? { type: "send", message: { t: "paused", reason: "visitor" } } : { type: "requestSnapshot", tabId: state.tabId }]);
    }
    case "snapshotRequest":
      return stay(state, state.paused ? [] : [{ type: "requestSnapshot", tabId: state.tabId }]);
    case "pauseShare":
      if (state.paused) return stay(state);
      // The recorder stops: nothing more leaves the page, and the agents are told why they see none.
      return stay({ ...state, paused: true }, [
        { type: "stopCapture", tabId: state.tabId },
        { type: "send", message: { t: "paused", reason: "visitor" } },
      ]);
    case "resumeShare":
      // A new recorder: its page message takes the agents' placeholder away, its snapshot shows the page as it is now.
      return state.paused ? stay({ ...state, paused: false }, [{ type: "startCapture", tabId: state.tabId }]) : stay(state);
    case "disconnected":
      return stay({ ...state, connection: "reconnecting" }, [{ type: "reconnect", resume }]);
    case "connected":
      // Welcome after a reconnect; sessionResumed follows and sets the guests.
      return stay(state);
    case "share":
      return stay(state, [{ type: "rejected", code: "INVALID_STATE" }]);
    case "started":
    case "dismiss":
      return stay(state);
  }
}

/** Connection-resume token shape check for persisted state coming back from storage. */
export function isVisitorState(value: unknown): value is VisitorState {
  if (typeof value !== "object" || value === null) return false;
  const status = (value as { status?: unknown }).status;
  return status === "idle" || status === "starting" || status === "live";
}
