/**
 * The one typed message map between extension contexts (content UI, popup, options → background),
 * plus what the background pushes back. Requests are validated in the background: a content
 * script runs beside untrusted pages, so its messages are input like any other.
 */
import * as v from "valibot";
import type { GlimpseError } from "./errors";
import type { KeyType } from "./protocol";
import { Settings } from "./settings";
import type { Ended, VisitorState } from "./visitor/machine";

export const Request = v.variant("type", [
  v.object({ type: v.literal("getStatus"), url: v.string() }),
  v.object({ type: v.literal("startShare"), tabId: v.optional(v.number()) }),
  v.object({ type: v.literal("stopShare") }),
  v.object({ type: v.literal("dismissEnded") }),
  v.object({ type: v.literal("getPopup"), tabId: v.number(), url: v.string() }),
  v.object({ type: v.literal("setSiteEnabled"), origin: v.string(), enabled: v.boolean() }),
  v.object({ type: v.literal("getSettings") }),
  v.object({ type: v.literal("saveSettings"), settings: Settings }),
]);
export type Request = v.InferOutput<typeof Request>;

export type InitStatus = { ok: true } | { ok: false; error: GlimpseError };

/** What any UI may see of the session. The key is absent for one-click sessions. */
export interface SessionView {
  status: VisitorState["status"];
  tabId: number | null;
  keyType: KeyType | null;
  sessionKey: string | null;
  guests: number;
  agents: string[];
  connection: "online" | "reconnecting" | null;
  lastEnded: (Ended & { text: string }) | null;
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
  getStatus: { show: boolean; init: InitStatus; session: SessionView; thisTab: boolean };
  startShare: Result;
  stopShare: Result;
  dismissEnded: Result;
  getPopup: {
    session: SessionView;
    init: InitStatus;
    origin: string | null;
    siteConfigured: boolean;
    siteEnabled: boolean;
    history: HistoryEntry[];
  };
  setSiteEnabled: Result;
  getSettings: Settings;
  saveSettings: Result;
}

export type ResponseFor<R extends Request> = Responses[R["type"]];

/** Pushed by the background to content UIs and the popup whenever the session changes. */
export interface StateBroadcast {
  type: "glimpse:state";
  session: SessionView;
  /** Whether the receiving tab is the shared one (each tab gets its own copy). */
  thisTab: boolean;
}

/** Port messages between the capture script in the shared tab and the background. */
export type CaptureToBackground =
  | { t: "frames"; events: unknown[] }
  | { t: "page"; url: string; title: string };
export type BackgroundToCapture = { t: "start"; maskSelectors: string[] } | { t: "snapshot" } | { t: "stop" };
export const CAPTURE_PORT = "glimpse-capture";
