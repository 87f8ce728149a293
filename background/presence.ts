/**
 * Presence (one-click flow), the background's side: carries out the pure machine in
 * src/presence/machine.ts. It owns the tabs' ports, the presence socket, the timers and
 * storage.session, feeds what happens to them in as events, and runs the effects. When the
 * background is stopped, the ports break, the page scripts reconnect, and that reconnect wakes
 * the background, which rebuilds presence from the stored identities; the dialog a tab shows is
 * the one thing kept in storage.session, so a visitor's answer reaches the next instance.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { glimpseError } from "~src/errors";
import type { Identity } from "~src/identity";
import { PageToBackground, PRESENCE_PORT, type BackgroundToPage, type PresenceView } from "~src/messages";
import { initialPresence, transition, type PresenceEffect, type PresenceEvent, type PresenceState } from "~src/presence/machine";
import { PROTOCOL_VERSION, type TermsStatus } from "~src/protocol";
import * as v from "valibot";
import { identityFields } from "./connection";
import { openSocket, type VisitorSocket } from "./socket";
import { loadShownRequest, saveShownRequest } from "./storage";

export interface PresenceDeps {
  identities: () => Promise<Record<string, Identity>>;
  socketUrl: () => Promise<string>;
  groupId: () => Promise<string>;
  /** The visitor accepted the terms in this tab: start the one-click session there, with the request's ticket. */
  onAccepted: (tabId: number, origin: string, ticket: string) => void;
  changed: () => void;
}

type Timer = Extract<PresenceEffect, { type: "schedule" }>["timer"];

export class Presence {
  private state: PresenceState = initialPresence();
  private readonly ready: Promise<void>;
  private queue: Promise<void> = Promise.resolve();
  private readonly ports = new Map<number, Runtime.Port>();
  /** The socket the machine asked for last (it may still be opening), and the open one. */
  private wanted: number | null = null;
  private socket: { id: number; socket: VisitorSocket } | null = null;
  private readonly timers = new Map<Timer, ReturnType<typeof setTimeout>>();

  constructor(private readonly deps: PresenceDeps) {
    this.ready = Promise.all([loadShownRequest(), deps.identities()]).then(([shown, identities]) => {
      this.state = { ...initialPresence(shown), identities };
    });
  }

  start(): () => void {
    const onConnect = (port: Runtime.Port) => this.onConnect(port);
    browser.runtime.onConnect.addListener(onConnect);
    return () => browser.runtime.onConnect.removeListener(onConnect);
  }

  view(): PresenceView {
    const s = this.state;
    return {
      status: s.link,
      visitorId: s.target?.identity.visitorId ?? null,
      origin: s.target?.origin ?? null,
      verified: s.verified,
      error: s.error ? glimpseError(s.error) : null,
    };
  }

  /** The request the consent frame in this tab should show (none if it was answered, withdrawn or asked elsewhere). */
  async shownIn(tabId: number): Promise<{ id: string; agent: string; groupName: string } | null> {
    await this.queue;
    await this.ready;
    const shown = this.state.shown;
    return shown && shown.tabId === tabId ? { id: shown.id, agent: shown.agent, groupName: shown.groupName || this.state.groupName } : null;
  }

  /** The consent frame's answer. A click on a dialog for an older request answers nothing. */
  async answer(tabId: number, id: string, status: TermsStatus): Promise<boolean> {
    await this.queue;
    await this.ready;
    if (this.state.shown?.id !== id) return false;
    await this.dispatch({ type: "answer", tabId, status });
    return true;
  }

  /** The linked identities changed (login, logout, a visitor linked in the popup). */
  async identitiesChanged(): Promise<void> {
    const identities = await this.deps.identities();
    await this.dispatch({ type: "identities", identities });
  }

  /** Events are applied one at a time, after the stored state has been read. */
  private dispatch(event: PresenceEvent): Promise<void> {
    const run = this.queue
      .then(() => this.ready)
      .then(() => {
        const { state, effects } = transition(this.state, event);
        this.state = state;
        for (const effect of effects) this.run(effect);
      });
    this.queue = run.catch((error) => console.warn("glimpse: presence event failed", event.type, error));
    return run;
  }

  private run(effect: PresenceEffect): void {
    switch (effect.type) {
      case "connect":
        return void this.connect(effect.socket, effect.identity);
      case "disconnect":
        this.wanted = null;
        this.socket?.socket.close();
        this.socket = null;
        return;
      case "send":
        return this.socket?.socket.send(effect.message);
      case "showTerms":
        return this.post(effect.tabId, { t: "showTerms", id: this.state.shown?.id ?? "" });
      case "hideTerms":
        return this.post(effect.tabId, { t: "hideTerms" });
      case "saveShown":
        return void saveShownRequest(effect.shown);
      case "schedule": {
        clearTimeout(this.timers.get(effect.timer));
        const event: PresenceEvent = effect.timer === "grace" ? { type: "graceOver" } : { type: "retry" };
        this.timers.set(effect.timer, setTimeout(() => void this.dispatch(event), effect.ms));
        return;
      }
      case "cancel":
        clearTimeout(this.timers.get(effect.timer));
        this.timers.delete(effect.timer);
        return;
      case "accepted":
        return this.deps.onAccepted(effect.tabId, effect.origin, effect.ticket);
      case "changed":
        return this.deps.changed();
    }
  }

  private async connect(id: number, identity: Identity): Promise<void> {
    this.wanted = id;
    this.socket?.socket.close();
    this.socket = null;
    const [url, groupId] = await Promise.all([this.deps.socketUrl(), this.deps.groupId()]);
    if (this.wanted !== id) return; // stopped or replaced meanwhile
    const socket = openSocket(
      url,
      { t: "hello", v: PROTOCOL_VERSION, groupId, client: "glimpse-extension", role: "presence", ...identityFields(identity) },
      {
        onWelcome: (welcome) => void this.dispatch({ type: "welcome", socket: id, verified: welcome.verified, groupName: welcome.group.name }),
        onMessage: (message) => {
          if (
            message.t === "shareRequest" ||
            message.t === "requestEnded" ||
            message.t === "requestAccepted" ||
            message.t === "presenceBlur" ||
            message.t === "error"
          ) {
            void this.dispatch({ type: "message", socket: id, message });
          }
        },
        onClose: () => {
          if (this.socket?.id === id) this.socket = null;
          void this.dispatch({ type: "closed", socket: id, jitter: Math.random() });
        },
      },
    );
    this.socket = { id, socket };
  }

  private post(tabId: number, message: BackgroundToPage): void {
    try {
      this.ports.get(tabId)?.postMessage(message);
    } catch {
      // the tab went away; its disconnect handler cleans up
    }
  }

  private onConnect(port: Runtime.Port): void {
    if (port.name !== PRESENCE_PORT) return;
    const tabId = port.sender?.tab?.id;
    const url = port.sender?.url ?? port.sender?.tab?.url;
    const origin = url ? safeOrigin(url) : null;
    if (tabId === undefined || !url || !origin) return port.disconnect();
    this.ports.get(tabId)?.disconnect();
    this.ports.set(tabId, port);
    port.onMessage.addListener((raw: unknown) => {
      const parsed = v.safeParse(PageToBackground, raw);
      if (!parsed.success) return;
      const message = parsed.output;
      if (message.t === "keepalive") return;
      void this.dispatch({ type: "tabPage", tabId, url: message.url, title: message.title, visible: message.visible, now: Date.now() });
    });
    port.onDisconnect.addListener(() => {
      if (this.ports.get(tabId) !== port) return;
      this.ports.delete(tabId);
      void this.dispatch({ type: "tabClosed", tabId });
    });
    void this.dispatch({ type: "tabOpened", tabId, origin, url, title: port.sender?.tab?.title ?? "" });
  }
}

function safeOrigin(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin.startsWith("http") ? origin : null;
  } catch {
    return null;
  }
}
