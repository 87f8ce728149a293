import * as v from "valibot";
import { ErrorMessage, Frames, GroupId, Guests, KeyType, Page, Ping, Pong, SessionEnded, SessionKey } from "./common";

/** Messages a visitor's browser (the extension background) sends to the server. */
export const VisitorHello = v.object({
  t: v.literal("hello"),
  v: v.pipe(v.number(), v.integer()),
  groupId: GroupId,
  client: v.pipe(v.string(), v.maxLength(128)),
  /** Present when a restarted background picks up a live session. */
  resume: v.optional(v.object({ sessionKey: SessionKey, token: v.pipe(v.string(), v.length(43)) })),
});

export const VisitorToServer = v.variant("t", [
  VisitorHello,
  v.object({ t: v.literal("startSession"), keyType: KeyType, site: v.pipe(v.string(), v.maxLength(512)) }),
  v.object({ t: v.literal("page"), url: Page.entries.url, title: Page.entries.title }),
  /** The visitor left the site where the session started: the agent sees a placeholder. */
  v.object({ t: v.literal("paused") }),
  Frames,
  v.object({ t: v.literal("endSession") }),
  Pong,
]);
export type VisitorToServer = v.InferOutput<typeof VisitorToServer>;

/** Messages the server sends to a visitor. */
export const ServerToVisitor = v.variant("t", [
  v.object({ t: v.literal("welcome"), v: v.number(), group: v.object({ id: GroupId, name: v.string() }) }),
  v.object({
    t: v.literal("sessionStarted"),
    sessionKey: SessionKey,
    keyType: KeyType,
    resumeToken: v.string(),
  }),
  v.object({ t: v.literal("sessionResumed"), sessionKey: SessionKey, count: v.number(), agents: v.array(v.string()) }),
  Guests,
  v.object({ t: v.literal("snapshotRequest") }),
  SessionEnded,
  ErrorMessage,
  Ping,
]);
export type ServerToVisitor = v.InferOutput<typeof ServerToVisitor>;
