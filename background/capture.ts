/**
 * The capture side of a session: injects the recorder into the shared tab (only once a session is
 * live — pages without a session carry just the button script) and forwards its frames.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { CAPTURE_PORT, type BackgroundToCapture, type CaptureToBackground } from "~src/messages";
import { pack } from "~src/capture/chunks";
import { collectUrls } from "~src/capture/urls";
import type { VisitorToServer } from "~src/protocol";
import { AssetCarrier } from "./assets";

export interface CaptureDeps {
  /** The shared tab, its site, the session key and whether an agent is watching, or null when no session is live. */
  liveTab: () => Promise<{ tabId: number; site: string; sessionKey: string; watched: boolean } | null>;
  /** Extra masking selectors from the site rule for this page. */
  maskSelectors: (url: string) => Promise<string[]>;
  send: (message: VisitorToServer) => void;
}

export class Capture {
  private readonly ports = new Map<number, Runtime.Port>();
  /** Tabs whose recorder is running (an agent has asked for the page since this page loaded). */
  private readonly recording = new Set<number>();
  private seq = 0;
  private chunkId = 0;
  /** Chunk ids stay unique across background restarts within a session. */
  private readonly chunkPrefix = Date.now().toString(36);

  private readonly assets: AssetCarrier;

  constructor(private readonly deps: CaptureDeps) {
    this.assets = new AssetCarrier({ send: deps.send });
  }

  start(): () => void {
    const onConnect = (port: Runtime.Port) => void this.onConnect(port);
    browser.runtime.onConnect.addListener(onConnect);
    return () => browser.runtime.onConnect.removeListener(onConnect);
  }

  /**
   * Put the recorder into the tab, and beside it, in the page's MAIN world, the script that sees
   * what page scripts do (contents/capture/main-world.ts). Safe to repeat: both ignore a second
   * injection.
   */
  async inject(tabId: number): Promise<void> {
    // Apart: without the MAIN-world part the recorder still works (it only misses script changes).
    try {
      await browser.scripting.executeScript({ target: { tabId }, files: ["capture-main.js"], world: "MAIN" });
    } catch (error) {
      console.warn("glimpse: could not inject page-script capture into tab", tabId, error);
    }
    try {
      await browser.scripting.executeScript({ target: { tabId }, files: ["capture.js"] });
    } catch (error) {
      console.warn("glimpse: could not inject capture into tab", tabId, error);
    }
  }

  /**
   * An agent needs the page. Recording starts only now: until an agent joins, nothing of the page
   * is serialised or uploaded (the recorder's first event is the full snapshot the agent needs).
   */
  requestSnapshot(tabId: number): void {
    const port = this.ports.get(tabId);
    if (!port) return;
    if (this.recording.has(tabId)) return this.post(tabId, { t: "snapshot" });
    void this.startRecording(tabId, port);
  }

  private async startRecording(tabId: number, port: Runtime.Port): Promise<void> {
    this.recording.add(tabId);
    const url = port.sender?.url ?? port.sender?.tab?.url ?? "";
    this.post(tabId, { t: "start", maskSelectors: await this.deps.maskSelectors(url) });
  }

  stop(tabId: number): void {
    this.post(tabId, { t: "stop" });
    this.ports.get(tabId)?.disconnect();
    this.ports.delete(tabId);
    this.recording.delete(tabId);
  }

  private post(tabId: number, message: BackgroundToCapture): void {
    try {
      this.ports.get(tabId)?.postMessage(message);
    } catch {
      this.ports.delete(tabId); // the page went away
    }
  }

  private async onConnect(port: Runtime.Port): Promise<void> {
    if (port.name !== CAPTURE_PORT) return;
    const tabId = port.sender?.tab?.id;
    const live = await this.deps.liveTab();
    const url = port.sender?.url ?? port.sender?.tab?.url ?? "";
    // Only the shared tab, and only while it stays on the site where the session started.
    if (tabId === undefined || !live || live.tabId !== tabId || !sameSite(url, live.site)) {
      port.postMessage({ t: "stop" } satisfies BackgroundToCapture);
      return port.disconnect();
    }
    this.ports.get(tabId)?.disconnect();
    this.ports.set(tabId, port);
    this.assets.forSession(live.sessionKey);
    this.recording.delete(tabId);
    port.onDisconnect.addListener(() => {
      if (this.ports.get(tabId) !== port) return;
      this.ports.delete(tabId);
      this.recording.delete(tabId);
    });
    port.onMessage.addListener((raw: unknown) => this.onCaptureMessage(raw as CaptureToBackground));
    // A new page in a watched session records at once; otherwise the first agent's join starts it.
    if (live.watched) await this.startRecording(tabId, port);
  }

  private onCaptureMessage(message: CaptureToBackground): void {
    if (message.t === "frames" && Array.isArray(message.events) && message.events.length > 0) {
      // Large snapshots go in pieces under the server's message limit (src/capture/chunks.ts).
      for (const packed of pack(message.events, () => `${this.chunkPrefix}-${this.chunkId++}`)) {
        if (packed.t === "chunk") this.deps.send(packed);
        else this.deps.send({ t: "frames", seq: this.seq++, events: packed.events as { type: number; timestamp: number }[] });
      }
      // Then the resources those events name, each once per session.
      for (const event of message.events) this.assets.want(collectUrls(event));
    } else if (message.t === "page" && typeof message.url === "string" && typeof message.title === "string") {
      this.deps.send({ t: "page", url: message.url.slice(0, 4096), title: message.title.slice(0, 1024) });
    }
  }
}

export function sameSite(url: string, site: string): boolean {
  try {
    return new URL(url).origin === site;
  } catch {
    return false;
  }
}
