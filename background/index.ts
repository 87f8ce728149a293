/** Composition root: wires the adapters to the core and registers listeners. Nothing else. */
import browser from "webextension-polyfill";
import type { StateBroadcast } from "~src/messages";
import { ruleFor, visitorSocketUrl } from "~src/settings";
import type { VisitorState } from "~src/visitor/machine";
import { Capture } from "./capture";
import { ServerConnection } from "./connection";
import { Controller } from "./controller";
import { RemoteControl } from "./control";
import { historyEnd, historyStart } from "./history";
import { handleMessages } from "./messages";
import { Presence } from "./presence";
import { loadIdentities, loadSettings, loadVisitorState, saveVisitorState } from "./storage";

const socketUrl = async () => visitorSocketUrl((await loadSettings()).serverUrl);
const presenceSocketUrl = async () => visitorSocketUrl((await loadSettings()).serverUrl, "presence");
const groupId = async () => (await loadSettings()).groupId;

const connection = new ServerConnection({
  socketUrl,
  groupId,
  emit: (event) => void controller.dispatch(event),
  mark: (message) => capture.mark(message),
  control: (message) =>
    remote.dispatch(
      message.t === "controlRequest" ? { type: "requested", agent: message.agent }
        : message.t === "controlReleased" ? { type: "released", agent: message.agent }
        : { type: "action", agent: message.agent, action: message.action },
    ),
});

const capture: Capture = new Capture({
  liveTab: async () => {
    await controller.settled();
    const state: VisitorState = controller.current;
    // Paused by the visitor: no recorder may connect until they resume.
    return state.status === "live" && !state.paused ? { tabId: state.tabId, site: state.site, sessionKey: state.sessionKey, watched: state.guests.count > 0 } : null;
  },
  maskSelectors: async (url) => ruleFor(await loadSettings(), url)?.mask ?? [],
  send: (message) => connection.send(message),
  controlEvent: (message) => {
    if (message.t === "activity") remote.dispatch({ type: "activity" });
    else if (message.t === "controlStop") remote.dispatch({ type: "stop" });
    else connection.send(message);
  },
});

/** Remote control of the shared page (#14): the visitor's consent, suspension and Stop. */
const remote: RemoteControl = new RemoteControl({
  send: (message) => connection.send(message),
  apply: (action) => capture.control(action),
  watch: (on) => capture.watchActivity(on),
  changed: () => broadcast(),
});

/** Tickets of accepted share requests, by site, taken by the one-click session's hello. */
const tickets = new Map<string, string>();

const presence: Presence = new Presence({
  identities: loadIdentities,
  socketUrl: presenceSocketUrl,
  groupId,
  onAccepted: (tabId, site, ticket) => {
    tickets.set(site, ticket);
    void controller.dispatch({ type: "share", tabId, site, keyType: "visitor" });
  },
  changed: () => broadcast(),
});

const controller: Controller = new Controller({
  load: loadVisitorState,
  save: saveVisitorState,
  connection: () => connection,
  identity: async (site) => {
    const identity = (await loadIdentities())[site] ?? null;
    const ticket = tickets.get(site);
    tickets.delete(site);
    // The accepted request's ticket stands for the identity proven on the presence connection.
    return identity && ticket ? { ...identity, ticket } : identity;
  },
  capture,
  history: {
    start: (entry) => historyStart(entry),
    end: (key, at, reason, agents) => historyEnd(key, at, reason, agents),
  },
  broadcast: () => broadcast(),
  control: () => remote.view,
});

/** Push the session and presence state to the popup and every tab's page script. */
function broadcast(): void {
  // Control ends with the session, and with a pause (nothing of the page is shared then).
  const state = controller.current;
  if (state.status !== "live") remote.dispatch({ type: "reset" });
  else if (state.paused) remote.dispatch({ type: "stop" });
  const session = controller.view();
  void loadIdentities().then(async (identities) => {
    const base = { type: "glimpse:state" as const, session, presence: presence.view(), linkedOrigins: Object.keys(identities) };
    const message = (thisTab: boolean): StateBroadcast => ({ ...base, thisTab });
    void browser.runtime.sendMessage(message(false)).catch(() => undefined); // the popup, when open
    for (const tab of await browser.tabs.query({})) {
      if (tab.id === undefined) continue;
      void browser.tabs.sendMessage(tab.id, message(tab.id === session.tabId)).catch(() => undefined);
    }
  });
}

capture.start();
presence.start();
handleMessages({ controller, capture, presence, remote, sendToAgents: (message) => connection.send(message), changed: broadcast });
browser.tabs.onRemoved.addListener((tabId) => void controller.dispatch({ type: "tabClosed", tabId, now: Date.now() }));
void controller.start();
