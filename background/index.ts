/** Composition root: wires the adapters to the core and registers listeners. Nothing else. */
import browser from "webextension-polyfill";
import type { StateBroadcast } from "~src/messages";
import { visitorSocketUrl } from "~src/settings";
import type { VisitorState } from "~src/visitor/machine";
import { Capture } from "./capture";
import { ServerConnection } from "./connection";
import { Controller } from "./controller";
import { historyEnd, historyStart } from "./history";
import { handleMessages } from "./messages";
import { loadSettings, loadVisitorState, saveVisitorState } from "./storage";

const connection = new ServerConnection({
  socketUrl: async () => visitorSocketUrl((await loadSettings()).serverUrl),
  groupId: async () => (await loadSettings()).groupId,
  emit: (event) => void controller.dispatch(event),
});

const capture: Capture = new Capture({
  liveTab: async (): Promise<{ tabId: number; site: string } | null> => {
    await controller.settled();
    const state: VisitorState = controller.current;
    return state.status === "live" ? { tabId: state.tabId, site: state.site } : null;
  },
  maskSelectors: async () => [],
  send: (message) => connection.send(message),
});

const controller: Controller = new Controller({
  load: loadVisitorState,
  save: saveVisitorState,
  connection: () => connection,
  capture,
  history: {
    start: (entry) => historyStart(entry),
    end: (key, at, reason, agents) => historyEnd(key, at, reason, agents),
  },
  broadcast: (session) => {
    const message = (thisTab: boolean): StateBroadcast => ({ type: "glimpse:state", session, thisTab });
    void browser.runtime.sendMessage(message(false)).catch(() => undefined); // the popup, when open
    void browser.tabs.query({}).then((tabs) => {
      for (const tab of tabs) {
        if (tab.id === undefined) continue;
        void browser.tabs.sendMessage(tab.id, message(tab.id === session.tabId)).catch(() => undefined);
      }
    });
  },
});

capture.start();
handleMessages(controller, capture, (message) => connection.send(message));
browser.tabs.onRemoved.addListener((tabId) => void controller.dispatch({ type: "tabClosed", tabId, now: Date.now() }));
void controller.start();
