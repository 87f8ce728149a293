import * as v from "valibot";
import { VISITOR_ID_PATTERN } from "../bridge";
import { ERRORS, type ErrorCode } from "../errors";

export { PROTOCOL_VERSION } from "./version";

/** A visitor ID as a site knows its customer (account number, e-mail, UUID). */
export const VisitorId = v.pipe(v.string(), v.regex(VISITOR_ID_PATTERN, "a visitor ID is 1-128 letters, digits or _@.+:-"));
/** Random keys are digits; one-click sessions are keyed by the visitor ID. */
export const SessionKey = v.union([v.pipe(v.string(), v.regex(/^\d{4,64}$/)), VisitorId]);
export const TermsStatus = v.picklist(["displayed", "declined", "accepted"]);
export type TermsStatus = v.InferOutput<typeof TermsStatus>;
/** A share request's life (server/requests.ts). */
export const RequestState = v.picklist(["pending", "displayed", "accepted", "started", "declined", "cancelled", "expired", "failed"]);
export type RequestState = v.InferOutput<typeof RequestState>;
export const RequestId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{8,64}$/));
export const GroupId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/));
export const Url = v.pipe(v.string(), v.maxLength(4096));
export const Title = v.pipe(v.string(), v.maxLength(1024));
export const KeyType = v.picklist(["random", "visitor"]);
export type KeyType = v.InferOutput<typeof KeyType>;

/** Why a session ended; both sides show a sentence for each (src/session-text.ts). */
export const EndReason = v.picklist([
  "visitor_stopped",
  "agent_ended",
  "expired",
  "visitor_left",
  // Sent by 0.1 servers, and in visitors' history from then; a server now suspends sessions across
  // a restart instead (server/sessions.ts suspendAll), so it no longer sends this.
  "server_shutdown",
]);
export type EndReason = v.InferOutput<typeof EndReason>;

/**
 * rrweb events are relayed, not interpreted, by the server: it checks the envelope (type and
 * timestamp) and leaves the payload to the replayer, which builds its DOM in a sandboxed iframe.
 */
export const RecordedEvent = v.looseObject({ type: v.pipe(v.number(), v.integer()), timestamp: v.number() });

export const Page = v.object({ url: Url, title: Title });
export type Page = v.InferOutput<typeof Page>;

/**
 * Where the agent points on the visitor's page: a node of the recorded page (its rrweb id, which
 * the visitor's recorder and the agent's replayer share) and a point in its box as fractions of
 * its width and height, so it lands on the same spot of the same element in a viewport of another
 * size. null: the agent's pointer left the view.
 */
export const AnchoredPoint = v.object({
  id: v.pipe(v.number(), v.integer(), v.minValue(0)),
  fx: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  fy: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
});
export const PointerTarget = v.nullable(AnchoredPoint);
/** A stroke the agent drew over the view: each point anchored like the pointer, so it lands on the same spots of the visitor's page. */
export const Stroke = v.pipe(v.array(AnchoredPoint), v.minLength(2), v.maxLength(200));
export type Stroke = v.InferOutput<typeof Stroke>;
/** How long a stroke stays on both sides (it fades over the last quarter). */
export const STROKE_MS = 4_000;
export type PointerTarget = v.InferOutput<typeof PointerTarget>;
/** Why the agent's view is paused: the shared tab left the site, or the visitor paused sharing. */
export const PauseReason = v.picklist(["left_site", "visitor"]);
export type PauseReason = v.InferOutput<typeof PauseReason>;
/** A node of the recorded page by its rrweb id; null for none. */
export const NodeId = v.nullable(v.pipe(v.number(), v.integer(), v.minValue(0)));
export const AgentName = v.pipe(v.string(), v.maxLength(128));

const Id = v.pipe(v.number(), v.integer(), v.minValue(0));
const Offset = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(10_000_000));
/** What an agent in control does on the visitor's page, naming nodes by their recorder id. */
export const ControlAction = v.variant("kind", [
  v.object({ kind: v.literal("click"), id: Id }),
  /** A text field's whole new value (the console sends it as the agent types). */
  v.object({ kind: v.literal("input"), id: Id, value: v.pipe(v.string(), v.maxLength(10_000)) }),
  v.object({ kind: v.literal("select"), id: Id, index: v.pipe(Id, v.maxValue(10_000)) }),
  v.object({ kind: v.literal("check"), id: Id, checked: v.boolean() }),
  /** Scroll the page's window to this offset. */
  v.object({ kind: v.literal("scroll"), x: Offset, y: Offset }),
]);
export type ControlAction = v.InferOutput<typeof ControlAction>;
/**
 * Control of the visitor's page, as the visitor's side reports it: asked (the dialog is up),
 * granted, suspended (the visitor is using the page; it resumes by itself), and the ends: declined,
 * revoked (the visitor's Stop or Escape), released (the agent gave it up or left).
 */
export const ControlState = v.picklist(["asked", "granted", "suspended", "declined", "revoked", "released"]);
export type ControlState = v.InferOutput<typeof ControlState>;
/** Why the visitor's page did not do an agent's action. */
export const ControlRefusal = v.picklist(["masked", "offsite", "missing", "unsupported"]);
export type ControlRefusal = v.InferOutput<typeof ControlRefusal>;

export const Guests = v.object({
  t: v.literal("guests"),
  count: v.pipe(v.number(), v.integer(), v.minValue(0)),
  agents: v.array(v.pipe(v.string(), v.maxLength(128))),
});

const codes = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];
export const ErrorMessage = v.object({
  t: v.literal("error"),
  code: v.picklist(codes),
  message: v.string(),
});

export const Ping = v.object({ t: v.literal("ping") });
export const Pong = v.object({ t: v.literal("pong") });
export const SessionEnded = v.object({ t: v.literal("sessionEnded"), reason: EndReason });
/** Most events in one `frames` message. */
export const FRAMES_MAX_EVENTS = 5000;

/** A batch of recorded events. The relay checks it by hand (`framesOk` in index.ts), to the same rules. */
export const Frames = v.object({
  t: v.literal("frames"),
  seq: v.pipe(v.number(), v.integer(), v.minValue(0)),
  // The length first: a 100,000-item array is refused before any item is checked.
  events: v.pipe(v.array(v.unknown()), v.maxLength(FRAMES_MAX_EVENTS), v.array(RecordedEvent)),
});

/** One piece of an event too large for a single message (src/capture/chunks.ts). */
export const Chunk = v.object({
  t: v.literal("chunk"),
  id: v.pipe(v.string(), v.maxLength(64)),
  index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(9_999)),
  count: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000)),
  data: v.string(),
});

/** Limits of carried assets (README "What the agent sees"). The server enforces them too. */
export const ASSET_LIMITS = {
  /** One asset above this is not carried: the agent sees a placeholder and a note. */
  assetBytes: 8 * 1024 * 1024,
  /** All assets of one session together. */
  sessionBytes: 64 * 1024 * 1024,
  /** Raw bytes per asset message (base64 makes it 4/3 of this on the wire). */
  pieceBytes: 192 * 1024,
};

/**
 * A piece of a resource the page uses, fetched by the extension with the visitor's access and
 * carried to the agents (held in server memory for the session, never on disk). `count: 0` says
 * the URL has the same content as an asset already sent (same hash).
 */
export const Asset = v.object({
  t: v.literal("asset"),
  url: Url,
  hash: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
  mime: v.pipe(v.string(), v.maxLength(128)),
  size: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(ASSET_LIMITS.assetBytes)),
  index: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000)),
  count: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1_000)),
  data: v.pipe(v.string(), v.maxLength(Math.ceil(ASSET_LIMITS.pieceBytes / 3) * 4)),
});
export type Asset = v.InferOutput<typeof Asset>;

/** Why a resource is not carried: the agent sees a placeholder and a note. */
export const AssetSkipReason = v.picklist(["too_large", "session_cap", "unreachable"]);
export type AssetSkipReason = v.InferOutput<typeof AssetSkipReason>;
export const AssetSkipped = v.object({ t: v.literal("assetSkipped"), url: Url, reason: AssetSkipReason });
