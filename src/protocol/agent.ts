import * as v from "valibot";
import { Chunk, ErrorMessage, Frames, Guests, KeyType, Page, Ping, Pong, SessionEnded, SessionKey, TermsStatus, VisitorId, AssetSkipped } from "./common";

/** Messages the agent console sends to the server. */
export const AgentToServer = v.variant("t", [
  v.object({ t: v.literal("hello"), v: v.pipe(v.number(), v.integer()) }),
  /** The key as typed; the server normalises it and answers KEY_INVALID when it is not digits. */
  v.object({ t: v.literal("join"), key: v.pipe(v.string(), v.maxLength(64)) }),
  /** One-click: follow a visitor's presence (the CRM record page). */
  v.object({ t: v.literal("watchVisitor"), visitorId: VisitorId }),
  v.object({ t: v.literal("unwatchVisitor"), visitorId: VisitorId }),
  /** Ask the visitor to accept a session (shows the terms overlay in their tab). */
  v.object({ t: v.literal("showTerms"), visitorId: VisitorId }),
  /** Join the visitor's one-click session, waiting for it to start if needed. */
  v.object({ t: v.literal("joinVisitor"), visitorId: VisitorId }),
  v.object({ t: v.literal("cancelWait") }),
  v.object({ t: v.literal("leave") }),
  v.object({ t: v.literal("endSession") }),
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
  v.object({ t: v.literal("paused") }),
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
  v.object({ t: v.literal("terms"), visitorId: VisitorId, status: v.union([TermsStatus, v.literal("sent")]) }),
  v.object({ t: v.literal("waiting"), visitorId: VisitorId }),
  Frames,
  Chunk,
  AssetSkipped,
  Guests,
  SessionEnded,
  ErrorMessage,
  Ping,
]);
export type ServerToAgent = v.InferOutput<typeof ServerToAgent>;
