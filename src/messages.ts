/**
 * The one typed message map between extension contexts (content UI, popup, options → background),
 * plus what the background pushes back. Requests are validated in the background: a content
 * script runs beside untrusted pages, so its messages are input like any other.
 */
import * as v from "valibot";
import type { GlimpseError } from "./errors";
import type { SiteRule } from "./identity";
import { TermsStatus, VisitorId, type ControlAction, type ControlRefusal, type KeyType, type PointerTarget, type Stroke } from "./protocol";
import type { ControlView } from "./visitor/control";
import { Settings, type ManagedKey } from "./settings";
import type { Ended, VisitorState } from "./visitor/machine";

export const Request = v.variant("type", [
  v.object({ type: v.literal("getStatus"), url: v.string() }),
  v.object({ type: v.literal("startShare"), tabId: v.optional(v.number()) }),
  v.object({ type: v.literal("stopShare") }),
  v.object({ type: v.literal("dismissEnded") }),
  v.object({ type: v.literal("getPopup"), tabId: v.number(), url: v.string() }),
  v.object({ type: v.literal("setSiteEnabled"), origin: v.string(), enabled: v.boolean() }),
  /** From a content script: the page bridge or a site rule linked (or, with null, unlinked) a visitor. */
  v.object({
    type: v.literal("setIdentity"),
    identity: v.nullable(
      v.object({
        visitorId: VisitorId,
        token: v.nullable(v.pipe(v.string(), v.maxLength(4096))),
        name: v.nullable(v.pipe(v.string(), v.maxLength(256))),
        email: v.nullable(v.pipe(v.string(), v.maxLength(256))),
        source: v.picklist(["bridge", "rule"]),
      }),
    ),
    ui: v.optional(v.picklist(["default", "none"])),
  }),
  /** From the popup: link a visitor ID to a site by hand (testing), or unlink with null. */
  v.object({ type: v.literal("linkVisitor"), origin: v.string(), visitorId: v.nullable(VisitorId) }),
  /** From a page script: load the (Preact) UI bundle into this tab, once it has something to show. */
  v.object({ type: v.literal("loadUi") }),
  /** From the consent frame (terms.html): which request it shows, and the visitor's answer. */
  v.object({ type: v.literal("termsShown") }),
  v.object({ type: v.literal("termsAnswer"), id: v.pipe(v.string(), v.maxLength(128)), status: TermsStatus }),
  /** From the page UI or the popup: pause sharing (nothing recorded or sent, the agent sees a placeholder) and resume. */
  v.object({ type: v.literal("pauseShare") }),
  v.object({ type: v.literal("resumeShare") }),
  /** From the page UI: hide (or show again) the agents' pointers and highlights on the shared page. */
  v.object({ type: v.literal("setMarksHidden"), hidden: v.boolean() }),
  /** From the page UI: the visitor's answer to an agent's control request, and Stop control. */
  v.object({ type: v.literal("controlAnswer"), allow: v.boolean() }),
  v.object({ type: v.literal("controlStop") }),
  v.object({ type: v.literal("getSettings") }),
  v.object({ type: v.literal("saveSettings"), settings: Settings }),
]);
export type Request = v.InferOutput<typeof Request>;

export type InitStatus = { ok: true } | { ok: false; error: GlimpseError };

/** Presence as the UIs see it. */
export interface PresenceView {
  status: "off" | "connecting" | "online" | "blurred" | "error";
  visitorId: string | null;
  origin: string | null;
  verified: boolean;
  error: GlimpseError | null;
}

/** What any UI may see of the session. The key is absent for one-click sessions. */
export interface SessionView {
  status: VisitorState["status"];
  tabId: number | null;
  keyType: KeyType | null;
  sessionKey: string | null;
  guests: number;
  agents: string[];
  connection: "online" | "reconnecting" | null;
  lastEnded: Ended | null;
  /** The visitor hid the agents' pointers and highlights on their page. */
  marksHidden: boolean;
  /** The visitor paused sharing. */
  paused: boolean;
  /** An agent controls the page, or asks to. */
  control: ControlView;
}

export interface HistoryEntry {
  id?: number;
  sessionKey: string;
  keyType: KeyType;
  site: string;
  startedAt: number;
  endedAt: number | null;
  agents: string[];
  endReason: Ended["reason"] | null;
}

export type Result = { ok: true } | { ok: false; error: GlimpseError };

export interface Responses {
  getStatus: {
    show: boolean;
    init: InitStatus;
    session: SessionView;
    thisTab: boolean;
    /** The visitor ID linked to this site, if any. */
    visitorId: string | null;
    /** The site draws its own UI (initVisitor with ui: "none"). */
    customUi: boolean;
    rule: SiteRule | null;
    presence: PresenceView;
  };
  startShare: Result;
  stopShare: Result;
  dismissEnded: Result;
  setMarksHidden: Result;
  controlAnswer: Result;
  controlStop: Result;
  pauseShare: Result;
  resumeShare: Result;
  getPopup: {
    session: SessionView;
    init: InitStatus;
    origin: string | null;
    siteConfigured: boolean;
    siteEnabled: boolean;
    history: HistoryEntry[];
    visitorId: string | null;
    identitySource: "bridge" | "rule" | "manual" | null;
    presence: PresenceView;
    server: { serverUrl: string; groupId: string; managed: boolean };
  };
  setIdentity: Result;
  loadUi: Result;
  termsShown: { request: { id: string; agent: string; groupName: string } | null };
  termsAnswer: Result;
  linkVisitor: Result;
  setSiteEnabled: Result;
  getSettings: { settings: Settings; managed: ManagedKey[] };
  saveSettings: Result;
}

export type ResponseFor<R extends Request> = Responses[R["type"]];

/** Pushed by the background to content UIs and the popup whenever the session changes. */
export interface StateBroadcast {
  type: "glimpse:state";
  session: SessionView;
  /** Whether the receiving tab is the shared one (each tab gets its own copy). */
  thisTab: boolean;
  presence: PresenceView;
  /** Sites with a linked visitor: their tabs hold the presence port. */
  linkedOrigins: string[];
}

/**
 * Port messages between the capture script in the shared tab (one per recorded frame: the top
 * frame and each cross-origin frame, see src/capture/frames.ts) and the background.
 */
export type CaptureToBackground =
  | { t: "frames"; events: unknown[] }
  | { t: "page"; url: string; title: string }
  | { t: "keepalive" }
  /** A cross-origin frame's recorder introduces itself by the token it will show its parent. */
  | { t: "frame"; token: string }
  /** A parent's recorder saw that token come from the iframe with this id in its stream. */
  | { t: "link"; token: string; id: number }
  /** An iframe in the recorded page loaded a document (new, or navigated): it needs a recorder. */
  | { t: "framesChanged" }
  /** The visitor moved, clicked, scrolled or typed (trusted input) while control is on. */
  | { t: "activity" }
  /** The visitor pressed Escape while control is on. */
  | { t: "controlStop" }
  /** The page did not do an agent's action. */
  | { t: "controlRefused"; reason: ControlRefusal };

export type BackgroundToCapture =
  | { t: "start"; maskSelectors: string[] }
  | { t: "snapshot" }
  | { t: "stop" }
  /** To the top frame: draw an agent's pointer (null target: remove it). */
  | { t: "pointer"; agent: string; target: PointerTarget }
  /** To the top frame: outline the node an agent highlights (null: remove it). */
  | { t: "highlight"; agent: string; id: number | null }
  /** To the top frame: draw an agent's stroke, which fades by itself. */
  | { t: "draw"; agent: string; stroke: Stroke }
  /** To the top frame: remove every agent's pointer and highlight (the visitor hid them). */
  | { t: "marksOff" }
  /** To a cross-origin frame: show your token to your parent frame's recorder. */
  | { t: "announce" }
  /** To the top frame: do the controlling agent's action. */
  | { t: "control"; action: ControlAction }
  /** To the top frame: report the visitor's own input (control is on), or stop. */
  | { t: "watchActivity"; on: boolean };
export { CAPTURE_PORT, KEEPALIVE_MS, PRESENCE_PORT } from "./ports";

export const PageToBackground = v.variant("t", [
  v.object({ t: v.literal("page"), url: v.pipe(v.string(), v.maxLength(4096)), title: v.pipe(v.string(), v.maxLength(1024)), visible: v.boolean() }),
  /** Firefox suspends an idle event page even with an open socket; a port message keeps it awake. */
  v.object({ t: v.literal("keepalive") }),
]);
export type PageToBackground = v.InferOutput<typeof PageToBackground>;
/** Sent by the page script; the background checks it against PageToBackground. */
/** The page script only places the consent frame; the frame asks the background what to show. */
export type BackgroundToPage = { t: "showTerms"; id: string } | { t: "hideTerms" };
