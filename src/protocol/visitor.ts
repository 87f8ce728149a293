import * as v from "valibot";
import { Stroke, ControlAction, ControlRefusal, Asset, AssetSkipped, Chunk, ErrorMessage, Frames, GroupId, Guests, KeyType, Page, Ping, Pong, RequestId, RequestState, SessionEnded, SessionKey, TermsStatus, VisitorId, PointerTarget, NodeId, AgentName, PauseReason } from "./common";

/** Messages a visitor's browser (the extension background) sends to the server. */
export const VisitorHello = v.object({
  t: v.literal("hello"),
  v: v.pipe(v.number(), v.integer()),
  groupId: GroupId,
  client: v.pipe(v.string(), v.maxLength(128)),
  /** Identity (one-click flow): the visitor ID, optionally proven by a token signed by the site. */
  visitorId: v.optional(VisitorId),
  token: v.optional(v.pipe(v.string(), v.maxLength(4096))),
  name: v.optional(v.pipe(v.string(), v.maxLength(256))),
  email: v.optional(v.pipe(v.string(), v.maxLength(256))),
  /** "presence": hold presence only; "session": share. */
  role: v.optional(v.picklist(["presence", "session"])),
  /** One-click: the ticket an accepted share request gave the presence connection (instead of a token). */
  ticket: v.optional(v.pipe(v.string(), v.length(43))),
  /** Present when a restarted background picks up a live session. */
  resume: v.optional(v.object({ sessionKey: SessionKey, token: v.pipe(v.string(), v.length(43)) })),
});

export const VisitorToServer = v.variant("t", [
  VisitorHello,
  v.object({ t: v.literal("startSession"), keyType: KeyType, site: v.pipe(v.string(), v.maxLength(512)) }),
  v.object({ t: v.literal("page"), url: Page.entries.url, title: Page.entries.title }),
  /** Presence: the page the visitor is on (sent only on a presence connection). */
  v.object({ t: v.literal("presence"), url: Page.entries.url, title: Page.entries.title, visible: v.boolean() }),
  /** Presence: the answer to a share request (the overlay is on screen / declined / accepted). */
  v.object({ t: v.literal("requestAnswer"), id: RequestId, status: TermsStatus }),
  /**
   * The agent sees a placeholder: the shared tab left the site where the session started, or the
   * visitor paused sharing (no reason: an older extension, which pauses only for the first).
   */
  v.object({ t: v.literal("paused"), reason: v.optional(PauseReason) }),
  Frames,
  Chunk,
  Asset,
  AssetSkipped,
  v.object({ t: v.literal("endSession") }),
  /** The visitor's answer to a control request, and what became of control since. */
  v.object({ t: v.literal("controlState"), state: v.picklist(["granted", "suspended", "declined", "revoked"]) }),
  /** The page did not do an agent's action, and why (sent on to the agent as CONTROL_REFUSED). */
  v.object({ t: v.literal("controlRefused"), reason: ControlRefusal }),
  Pong,
]);
export type VisitorToServer = v.InferOutput<typeof VisitorToServer>;

/** Messages the server sends to a visitor. */
export const ServerToVisitor = v.variant("t", [
  v.object({
    t: v.literal("welcome"),
    v: v.number(),
    group: v.object({ id: GroupId, name: v.string() }),
    visitorId: v.nullable(VisitorId),
    verified: v.boolean(),
    /** How often the server pings: a client that hears nothing for 2.5 times this knows the route is dead. */
    pingMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  }),
  /** An agent asks for a one-click session: show the terms overlay. */
  v.object({ t: v.literal("shareRequest"), id: RequestId, agent: v.string(), expiresAt: v.number() }),
  /** The request is over before an answer (cancelled by the agent, expired, failed): hide the overlay. */
  v.object({ t: v.literal("requestEnded"), id: RequestId, state: RequestState }),
  /** The visitor accepted: start the session with this ticket. */
  v.object({ t: v.literal("requestAccepted"), id: RequestId, ticket: v.string() }),
  /** Another browser of the same visitor took over presence: this one is no longer signalled. */
  v.object({ t: v.literal("presenceBlur") }),
  v.object({
    t: v.literal("sessionStarted"),
    sessionKey: SessionKey,
    keyType: KeyType,
    resumeToken: v.string(),
  }),
  v.object({ t: v.literal("sessionResumed"), sessionKey: SessionKey, count: v.number(), agents: v.array(v.string()) }),
  Guests,
  v.object({ t: v.literal("snapshotRequest") }),
  /** An agent's pointer, drawn on the shared page with their name. */
  v.object({ t: v.literal("pointer"), agent: AgentName, target: PointerTarget }),
  /** An agent's highlight: an outline around that node of the shared page, with their name. */
  v.object({ t: v.literal("highlight"), agent: AgentName, id: NodeId }),
  /** An agent's stroke, drawn on the page and faded out. */
  v.object({ t: v.literal("draw"), agent: AgentName, stroke: Stroke }),
  /** An agent asks to control the page: show the visitor its own dialog. */
  v.object({ t: v.literal("controlRequest"), agent: AgentName }),
  /** The agent who had (or asked for) control gave it up or left. */
  v.object({ t: v.literal("controlReleased"), agent: AgentName }),
  /** An action of the agent in control, to do on the page. */
  v.object({ t: v.literal("control"), agent: AgentName, action: ControlAction }),
  SessionEnded,
  ErrorMessage,
  Ping,
]);
export type ServerToVisitor = v.InferOutput<typeof ServerToVisitor>;
