/**
 * The capture side of a session: injects the recorder into the shared tab (only once a session is
 * live — pages without a session carry just the button script) and forwards its frames.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { CAPTURE_PORT, type BackgroundToCapture, type CaptureToBackground } from "~src/messages";
import { pack } from "~src/capture/chunks";
import type { VisitorToServer } from "~src/protocol";

export interface CaptureDeps {
  /** The shared tab and its site, or null when no session is live. */
  liveTab: () => Promise<{ tabId: number; site: string } | null>;
  /** Extra masking selectors from the site rule for this page. */
  maskSelectors: (url: string) => Promise<string[]>;
  send: (message: VisitorToServer) => void;
}

export class Capture {
  private readonly ports = new Map<number, Runtime.Port>();
  private seq = 0;
  private chunkId = 0;
  /** Chunk ids stay unique across background restarts within a session. */
  private readonly chunkPrefix = Date.now().toString(36);

  constructor(private readonly deps: CaptureDeps) {}

  start(): () => void {
    const onConnect = (port: Runtime.Port) => void this.onConnect(port);
    browser.runtime.onConnect.addListener(onConnect);
    return () => browser.runtime.onConnect.removeListener(onConnect);
  }

  /** Put the recorder into the tab. Safe to repeat: the script ignores a second injection. */
  async inject(tabId: number): Promise<void> {
    try {
      await browser.scripting.executeScript({ target: { tabId }, files: ["capture.js"] });
    } catch (error) {
      console.warn("glimpse: could not inject capture into tab", tabId, error);
    }
  }

  requestSnapshot(tabId: number): void {
    this.post(tabId, { t: "snapshot" });
  }

  stop(tabId: number): void {
    this.post(tabId, { t: "stop" });
    this.ports.get(tabId)?.disconnect();
    this.ports.delete(tabId);
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
    port.onDisconnect.addListener(() => {
      if (this.ports.get(tabId) === port) this.ports.delete(tabId);
    });
    port.onMessage.addListener((raw: unknown) => this.onCaptureMessage(raw as CaptureToBackground));
    port.postMessage({ t: "start", maskSelectors: await this.deps.maskSelectors(url) } satisfies BackgroundToCapture);
  }

  private onCaptureMessage(message: CaptureToBackground): void {
    if (message.t === "frames" && Array.isArray(message.events) && message.events.length > 0) {
      // Large snapshots go in pieces under the server's message limit (src/capture/chunks.ts).
      for (const packed of pack(message.events, () => `${this.chunkPrefix}-${this.chunkId++}`)) {
        if (packed.t === "chunk") this.deps.send(packed);
        else this.deps.send({ t: "frames", seq: this.seq++, events: packed.events as { type: number; timestamp: number }[] });
      }
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
