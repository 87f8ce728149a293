import * as v from "valibot";
import { Stroke, ControlAction, ControlState, Chunk, ErrorMessage, Frames, Guests, KeyType, Page, Ping, Pong, RequestId, RequestState, SessionEnded, SessionKey, VisitorId, AssetSkipped, NodeId, PauseReason, PointerTarget } from "./common";

/** Messages the agent console sends to the server. */
export const AgentToServer = v.variant("t", [
  v.object({ t: v.literal("hello"), v: v.pipe(v.number(), v.integer()) }),
  /** The key as typed; the server normalises it and answers KEY_INVALID when it is not digits. */
  v.object({ t: v.literal("join"), key: v.pipe(v.string(), v.maxLength(64)) }),
  /** One-click: follow a visitor's presence (the CRM record page). */
  v.object({ t: v.literal("watchVisitor"), visitorId: VisitorId }),
  v.object({ t: v.literal("unwatchVisitor"), visitorId: VisitorId }),
  /** Ask the visitor to share (shows the terms overlay in their tab); on accept this console joins. */
  v.object({ t: v.literal("requestShare"), visitorId: VisitorId }),
  /** Withdraw this agent's open request (the overlay disappears from the visitor's tab). */
  v.object({ t: v.literal("cancelRequest"), visitorId: VisitorId }),
  /** Rejoin the visitor's live one-click session (after a reload or reconnect); only agents who were in it may. */
  v.object({ t: v.literal("joinVisitor"), visitorId: VisitorId }),
  /** A link for a colleague of the same group into this agent's session (answered with "invited"). */
  v.object({ t: v.literal("invite") }),
  /** Join the session an invitation link names (the token from the link). */
  v.object({ t: v.literal("joinInvite"), token: v.pipe(v.string(), v.maxLength(128)) }),
  v.object({ t: v.literal("leave") }),
  v.object({ t: v.literal("endSession") }),
  /** The agent's pointer over the view (sent at most every 50 ms while it moves). */
  v.object({ t: v.literal("pointer"), target: PointerTarget }),
  /** Outline this node of the page for the visitor (the agent clicked it in the view); null removes it. */
  v.object({ t: v.literal("highlight"), id: NodeId }),
  /** A stroke drawn over the view, shown to the visitor for a few seconds. */
  v.object({ t: v.literal("draw"), stroke: Stroke }),
  /** Ask the visitor for control of their page (one agent at a time); release gives it back. */
  v.object({ t: v.literal("controlRequest") }),
  v.object({ t: v.literal("controlRelease") }),
  /** An action on the visitor's page: only while the visitor has granted this agent control. */
  v.object({ t: v.literal("control"), action: ControlAction }),
  Pong,
]);
export type AgentToServer = v.InferOutput<typeof AgentToServer>;

/** Messages the server sends to an agent console. */
export const ServerToAgent = v.variant("t", [
  v.object({ t: v.literal("welcome"), v: v.number(), agent: v.object({ username: v.string(), groupId: v.string() }) }),
  v.object({
    t: v.literal("joined"),
    sessionKey: SessionKey,
    keyType: KeyType,
    page: v.nullable(Page),
    visitorConnected: v.boolean(),
  }),
  v.object({ t: v.literal("page"), url: Page.entries.url, title: Page.entries.title }),
  /** An invitation into the agent's session: good once, until expiresAt, while the session lives. */
  v.object({ t: v.literal("invited"), token: v.string(), expiresAt: v.number() }),
  /** Who controls the visitor's page, to every agent in the session (state as in ControlState). */
  v.object({ t: v.literal("controlState"), agent: v.string(), state: ControlState }),
  /** Until the next "page": the visitor's page is not shown, and why. */
  v.object({ t: v.literal("paused"), reason: PauseReason }),
  v.object({ t: v.literal("visitorConnection"), connected: v.boolean() }),
  v.object({
    t: v.literal("visitorPresence"),
    visitorId: VisitorId,
    online: v.boolean(),
    page: v.nullable(Page),
    visible: v.boolean(),
    verified: v.boolean(),
    name: v.nullable(v.string()),
  }),
  /** The visitor's share request changed (to every agent watching the visitor; `agent` asked). */
  v.object({ t: v.literal("shareRequest"), visitorId: VisitorId, id: RequestId, agent: v.string(), state: RequestState, expiresAt: v.number() }),
  Frames,
  Chunk,
  AssetSkipped,
  Guests,
  SessionEnded,
  ErrorMessage,
  Ping,
]);
export type ServerToAgent = v.InferOutput<typeof ServerToAgent>;
