/**
 * Presence (one-click flow): held while at least one tab of a site with a linked visitor is
 * open — those tabs hold a port to the background, and only they. The last port closing starts
 * a short grace; logout ends presence at once. When the background is stopped, the ports break,
 * the page scripts reconnect, and that reconnect wakes the background, which rebuilds presence
 * from the stored identities: nothing else needs persisting.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { glimpseError, type ErrorCode } from "~src/errors";
import type { Identity } from "~src/identity";
import { PageToBackground, PRESENCE_PORT, type BackgroundToPage, type PresenceView } from "~src/messages";
import { PROTOCOL_VERSION, type TermsStatus } from "~src/protocol";
import { backoffDelay } from "~src/reconnect";
import * as v from "valibot";
import { identityFields } from "./connection";
import { openSocket, type VisitorSocket } from "./socket";

/** Closing the last tab of the site ends presence after this grace (a reload must not flap it). */
export const LAST_TAB_GRACE_MS = 3_000;

interface TabPort {
  port: Runtime.Port;
  tabId: number;
  origin: string;
  page: { url: string; title: string; visible: boolean };
  focusedAt: number;
}

export interface PresenceDeps {
  identities: () => Promise<Record<string, Identity>>;
  socketUrl: () => Promise<string>;
  groupId: () => Promise<string>;
  /** The visitor accepted the terms in this tab: start the one-click session there. */
  onAccepted: (tabId: number, origin: string) => void;
  changed: () => void;
}

export class Presence {
  private readonly ports = new Map<number, TabPort>();
  private socket: VisitorSocket | null = null;
  private current: { origin: string; identity: Identity; withToken: boolean } | null = null;
  private status: PresenceView["status"] = "off";
  private verified = false;
  private error: PresenceView["error"] = null;
  private groupName = "";
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private graceTimer: ReturnType<typeof setTimeout> | null = null;
  /** The tab showing the terms overlay, so its answer is attributed to the right tab. */
  private termsTab: number | null = null;

  constructor(private readonly deps: PresenceDeps) {}

  start(): () => void {
    const onConnect = (port: Runtime.Port) => this.onConnect(port);
    browser.runtime.onConnect.addListener(onConnect);
    return () => browser.runtime.onConnect.removeListener(onConnect);
  }

  view(): PresenceView {
    return {
      status: this.status,
      visitorId: this.current?.identity.visitorId ?? null,
      origin: this.current?.origin ?? null,
      verified: this.verified,
      error: this.error,
    };
  }

  private queue: Promise<void> = Promise.resolve();

  /** Bring the socket in line with the open tabs and the linked identities (one run at a time). */
  reconcile(): Promise<void> {
    const run = this.queue.then(() => this.reconcileOnce());
    this.queue = run.catch((error) => console.warn("glimpse: presence reconcile failed", error));
    return run;
  }

  private async reconcileOnce(): Promise<void> {
    const identities = await this.deps.identities();
    const wanted = [...this.ports.values()]
      .filter((p) => identities[p.origin])
      .sort((a, b) => b.focusedAt - a.focusedAt)[0];
    if (!wanted) {
      // The last tab closed (not a logout): wait a moment in case it was a reload.
      const stillLinked = this.current !== null && identities[this.current.origin] !== undefined;
      if (stillLinked && this.status !== "off" && !this.graceExpired) {
        this.graceTimer ??= setTimeout(() => {
          this.graceTimer = null;
          this.graceExpired = true;
          void this.reconcile();
        }, LAST_TAB_GRACE_MS);
        return;
      }
      this.clearGrace();
      return this.stop();
    }
    this.clearGrace();
    const identity = identities[wanted.origin]!;
    const same = this.current && this.current.origin === wanted.origin && sameIdentity(this.current.identity, identity);
    if (same && this.status !== "off" && this.status !== "error") return this.sendPage();
    this.stop();
    this.current = { origin: wanted.origin, identity, withToken: Boolean(identity.token) };
    this.attempt = 0;
    await this.connect();
  }

  /** Logout: stop at once (no grace), then see whether another linked site still wants presence. */
  async loggedOut(origin: string): Promise<void> {
    if (this.current?.origin === origin) this.stop();
    await this.reconcile();
  }

  private graceExpired = false;

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = null;
    this.graceExpired = false;
  }

  private stop(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    const wasOn = this.status !== "off";
    this.current = null;
    this.status = "off";
    this.verified = false;
    this.error = null;
    if (wasOn) this.changed();
  }

  private async connect(): Promise<void> {
    const target = this.current;
    if (!target) return;
    const [url, groupId] = await Promise.all([this.deps.socketUrl(), this.deps.groupId()]);
    if (this.current !== target) return;
    const identity = target.withToken ? target.identity : { ...target.identity, token: null };
    this.status = "connecting";
    this.changed();
    let fatal: ErrorCode | null = null;
    const socket = openSocket(
      url,
      { t: "hello", v: PROTOCOL_VERSION, groupId, client: "glimpse-extension", role: "presence", ...identityFields(identity) },
      {
        onWelcome: (welcome) => {
          if (socket !== this.socket) return;
          this.attempt = 0;
          this.status = "online";
          this.verified = welcome.verified;
          this.groupName = welcome.group.name;
          this.error = null;
          this.changed();
          this.sendPage();
        },
        onMessage: (message) => {
          if (socket !== this.socket) return;
          if (message.t === "signal" && message.type === "showterms") return this.showTerms(message.agent);
          if (message.t === "presenceBlur") {
            this.status = "blurred";
            return this.changed();
          }
          if (message.t === "error") fatal = message.code;
        },
        onClose: () => {
          if (socket !== this.socket) return;
          this.socket = null;
          if (fatal === "TOKEN_INVALID" && target.withToken) {
            // A token only lives minutes; after it expires presence goes on unverified (the agent sees that).
            target.withToken = false;
            return void this.connect();
          }
          if (fatal === "VERIFICATION_REQUIRED" || fatal === "UNKNOWN_GROUP" || fatal === "VERSION_MISMATCH") {
            this.status = "error";
            this.error = glimpseError(fatal);
            return this.changed();
          }
          this.status = "connecting";
          this.changed();
          const delay = backoffDelay(this.attempt++, Math.random) ?? 30_000;
          this.retryTimer = setTimeout(() => void this.connect(), delay);
        },
      },
    );
    this.socket = socket;
  }

  private sendPage(): void {
    const focused = this.focusedPort();
    if (!focused || this.status === "off") return;
    this.socket?.send({ t: "presence", url: focused.page.url, title: focused.page.title, visible: focused.page.visible });
  }

  private focusedPort(): TabPort | undefined {
    const origin = this.current?.origin;
    return [...this.ports.values()].filter((p) => p.origin === origin).sort((a, b) => b.focusedAt - a.focusedAt)[0];
  }

  /** The terms overlay goes to the visitor's most recently focused tab of the site. */
  private showTerms(agent: string): void {
    const target = this.focusedPort();
    if (!target) return;
    this.termsTab = target.tabId;
    post(target.port, { t: "showTerms", agent, groupName: this.groupName });
  }

  private onTerms(tab: TabPort, status: TermsStatus): void {
    if (this.termsTab !== tab.tabId) return; // only the tab that was asked may answer
    this.socket?.send({ t: "signalAgent", event: "terms", status });
    if (status === "displayed") return;
    this.termsTab = null;
    if (status === "accepted") this.deps.onAccepted(tab.tabId, tab.origin);
  }

  private onConnect(port: Runtime.Port): void {
    if (port.name !== PRESENCE_PORT) return;
    const tabId = port.sender?.tab?.id;
    const url = port.sender?.url ?? port.sender?.tab?.url;
    const origin = url ? safeOrigin(url) : null;
    if (tabId === undefined || !origin) return port.disconnect();
    const entry: TabPort = { port, tabId, origin, page: { url: url!, title: port.sender?.tab?.title ?? "", visible: false }, focusedAt: 0 };
    this.ports.get(tabId)?.port.disconnect();
    this.ports.set(tabId, entry);
    port.onMessage.addListener((raw: unknown) => {
      const parsed = v.safeParse(PageToBackground, raw);
      if (!parsed.success) return;
      const message = parsed.output;
      if (message.t === "keepalive") return;
      if (message.t === "terms") return this.onTerms(entry, message.status);
      entry.page = { url: message.url, title: message.title, visible: message.visible };
      if (message.visible) entry.focusedAt = Date.now();
      if (this.current?.origin === origin) this.sendPage();
      else void this.reconcile();
    });
    port.onDisconnect.addListener(() => {
      if (this.ports.get(tabId) !== entry) return;
      this.ports.delete(tabId);
      if (this.termsTab === tabId) this.termsTab = null;
      void this.reconcile();
    });
    void this.reconcile();
  }

  private changed(): void {
    this.deps.changed();
  }
}

function post(port: Runtime.Port, message: BackgroundToPage): void {
  try {
    port.postMessage(message);
  } catch {
    // the tab went away; its disconnect handler cleans up
  }
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.visitorId === b.visitorId && a.token === b.token;
}

function safeOrigin(url: string): string | null {
  try {
    const origin = new URL(url).origin;
    return origin.startsWith("http") ? origin : null;
  } catch {
    return null;
  }
}
