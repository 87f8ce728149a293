/**
 * The one script declared for every page. It asks the background whether to show Glimpse here
 * and renders the Share screen button, the key, "an agent is viewing" and the terms overlay in a
 * closed shadow root, and places the consent frame (terms.html) when the background asks. On sites
 * with a linked visitor it holds the presence port. It also serves the
 * page bridge. Nothing about the page but its URL (and, for presence, its title and visibility)
 * reaches the background before the visitor clicks Share or Accept.
 */
import type { PlasmoCSConfig } from "plasmo";
import type { BackgroundToPage, PresenceView, Responses, SessionView, StateBroadcast } from "~src/messages";
import { listenToPage, postToPage } from "./page/bridge";
import { openPresencePort, type PresencePort } from "./page/presence-port";
import { watchRule } from "./page/rules";
import { ext, extensionAlive, request } from "./ui/ext";
import { UI_GLOBAL, type UiBundle } from "./ui/types";

export const config: PlasmoCSConfig = {
  matches: ["<all_urls>"],
  run_at: "document_idle",
};

let status: Responses["getStatus"] | null = null;
let linked = false;
/** The share request whose consent frame is up (the frame itself asks the background for the rest). */
let terms: string | null = null;
let presencePort: PresencePort | null = null;
let stopRule: (() => void) | null = null;
let uiLoading: Promise<UiBundle | null> | null = null;

const loadedUi = () => (globalThis as Record<string, unknown>)[UI_GLOBAL] as UiBundle | undefined;

/** The UI bundle arrives on first need (the background injects ui.js into this tab). */
function ui(): Promise<UiBundle | null> {
  const loaded = loadedUi();
  if (loaded) return Promise.resolve(loaded);
  uiLoading ??= request({ type: "loadUi" })
    .then((result) => (result.ok ? (loadedUi() ?? null) : null))
    .catch(() => null)
    .finally(() => (uiLoading = null));
  return uiLoading;
}

function draw(): void {
  if (!extensionAlive()) return teardown();
  const visible = status && (status.show || status.thisTab || linked || terms);
  if (!status || !visible) return loadedUi()?.remove();
  void ui().then((bundle) => {
    if (!status) return;
    bundle?.draw({
      session: status.session,
      init: status.init,
      thisTab: status.thisTab,
      customUi: status.customUi,
      terms,
      onRetryInit: () => void refresh(),
    });
  });
}

function teardown(): void {
  loadedUi()?.remove();
  presencePort?.close();
  stopRule?.();
  ext?.runtime?.onMessage?.removeListener(onMessage);
}

async function refresh(): Promise<void> {
  try {
    status = await request({ type: "getStatus", url: location.href });
  } catch {
    return teardown(); // the extension is gone or reloading
  }
  linked = status.visitorId !== null;
  syncPresence();
  if (status.rule && !stopRule) {
    const rule = status.rule;
    stopRule = watchRule(rule, (visitorId) => {
      // A rule never overrides an identity the site gave through the bridge.
      if (visitorId === null && !linked) return;
      void request({ type: "setIdentity", identity: visitorId ? { visitorId, token: null, name: null, email: null, source: "rule" } : null });
    });
  }
  draw();
}

function syncPresence(): void {
  if (linked && !presencePort) presencePort = openPresencePort(onPresenceMessage);
  else if (!linked && presencePort) {
    presencePort.close();
    presencePort = null;
  }
}

function onPresenceMessage(message: BackgroundToPage): void {
  if (message.t === "showTerms") {
    if (terms !== message.id) postToPage({ glimpse: 1, event: "PresenceShowTerms" });
    terms = message.id;
  } else {
    terms = null;
  }
  draw();
}

function onMessage(message: unknown): undefined {
  const broadcast = message as StateBroadcast;
  if (broadcast?.type !== "glimpse:state" || !status) return undefined;
  announce(status.session, broadcast.session, status.thisTab || broadcast.thisTab, status.presence, broadcast.presence);
  status = { ...status, session: broadcast.session, thisTab: broadcast.thisTab, presence: broadcast.presence };
  linked = broadcast.linkedOrigins.includes(location.origin);
  syncPresence();
  draw();
  return undefined;
}

/** Tell a page that uses the bridge what changed (Glance's event names). */
function announce(before: SessionView, after: SessionView, thisTab: boolean, was: PresenceView, now: PresenceView): void {
  if (thisTab && before.status !== "live" && after.status === "live") {
    postToPage({ glimpse: 1, event: "ConnectedToSession", sessionKey: after.sessionKey, oneClick: after.keyType === "visitor" });
  }
  if (thisTab && after.status === "live" && before.guests !== after.guests) postToPage({ glimpse: 1, event: "GuestCountChange", count: after.guests });
  if (thisTab && after.status === "live" && before.agents.join("\n") !== after.agents.join("\n")) postToPage({ glimpse: 1, event: "Agents", agents: after.agents });
  if (thisTab && after.status === "live" && before.paused !== after.paused) postToPage({ glimpse: 1, event: "SharingPaused", paused: after.paused });
  if (thisTab && before.status === "live" && after.status === "idle") {
    postToPage({ glimpse: 1, event: "SessionEnded", reason: after.lastEnded?.reason ?? "visitor_stopped" });
  }
  if (was.status !== now.status && now.origin === location.origin) {
    if (now.status === "online") postToPage({ glimpse: 1, event: "PresenceConnected" });
    if (now.status === "blurred") postToPage({ glimpse: 1, event: "PresenceBlur" });
  }
  if (was.status !== "off" && now.status === "off" && was.origin === location.origin) postToPage({ glimpse: 1, event: "PresenceDisconnected" });
}

if (extensionAlive()) {
  ext!.runtime.onMessage.addListener(onMessage);
  listenToPage({
    async initVisitor(command) {
      const identity = { visitorId: command.visitorId, token: command.token ?? null, name: command.name ?? null, email: command.email ?? null, source: "bridge" as const };
      await request({ type: "setIdentity", identity, ui: command.ui ?? "default" });
      await refresh();
      postToPage({ glimpse: 1, event: "VisitorInitialized", visitorId: command.visitorId });
    },
    async logout() {
      await request({ type: "setIdentity", identity: null });
      await refresh();
    },
    getState() {
      postToPage({ glimpse: 1, event: "VisitorInitialized", visitorId: status?.visitorId ?? null });
    },
  });
  void refresh();
}
