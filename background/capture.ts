/**
 * The capture side of a session: injects the recorder into the shared tab (only once a session is
 * live — pages without a session carry just the button script) and forwards its frames.
 */
import browser, { type Runtime } from "webextension-polyfill";
import { CAPTURE_PORT, type BackgroundToCapture, type CaptureToBackground } from "~src/messages";
import { pack } from "~src/capture/chunks";
import { FRAME_ID_SPAN, placeFrameEvent, type FramePlace } from "~src/capture/frames";
import { collectUrls } from "~src/capture/urls";
import { ControlRefusal, type ControlAction, type VisitorToServer } from "~src/protocol";
import * as v from "valibot";
import type { AgentMark } from "./connection";
import { AssetCarrier } from "./assets";

export interface CaptureDeps {
  /** The shared tab, its site, the session key and whether an agent is watching, or null when no session is live. */
  liveTab: () => Promise<{ tabId: number; site: string; sessionKey: string; watched: boolean } | null>;
  /** Extra masking selectors from the site rule for this page. */
  maskSelectors: (url: string) => Promise<string[]>;
  send: (message: VisitorToServer) => void;
  /** The visitor's own input, Escape, or a refused action, from the shared page (remote control). */
  controlEvent: (message: Extract<CaptureToBackground, { t: "activity" | "controlStop" | "controlRefused" }>) => void;
}

/** A cross-origin frame's recorder in the shared tab (src/capture/frames.ts). */
interface ChildFrame {
  port: Runtime.Port;
  frameId: number;
  token: string | null;
  /** Its id block and iframe in the top stream; `iframeId` is -1 until a parent's recorder links it. */
  place: FramePlace;
  /** The frame whose recording holds its iframe (0: the top frame). */
  parent: number | null;
  recording: boolean;
  /** Linked anew: its events wait for the full snapshot asked for then. */
  awaitingSnapshot: boolean;
}

/** New iframe documents: wait for a burst of loads to end before injecting once. */
const REINJECT_MS = 250;

export class Capture {
  private readonly ports = new Map<number, Runtime.Port>();
  /** Tabs whose recorder is running (an agent has asked for the page since this page loaded). */
  private readonly recording = new Set<number>();
  /** Cross-origin frames of the shared tab, by frame id. */
  private readonly children = new Map<number, ChildFrame>();
  private nextSlot = 1;
  private reinjectTimer: ReturnType<typeof setTimeout> | null = null;
  private seq = 0;
  private chunkId = 0;
  /** Chunk ids stay unique across background restarts within a session. */
  private readonly chunkPrefix = Date.now().toString(36);

  private readonly assets: AssetCarrier;
  /** The visitor hid the agents' pointers and highlights (until the worker restarts or they show them again). */
  marksHidden = false;
  private watchingActivity = false;

  constructor(private readonly deps: CaptureDeps) {
    this.assets = new AssetCarrier({ send: deps.send });
  }

  start(): () => void {
    const onConnect = (port: Runtime.Port) => void this.onConnect(port);
    browser.runtime.onConnect.addListener(onConnect);
    return () => browser.runtime.onConnect.removeListener(onConnect);
  }

  /**
   * Put the recorder into every frame of the tab, and beside it, in the page's MAIN world, the
   * script that sees what page scripts do (contents/capture/main-world.ts). Safe to repeat: both
   * ignore a second injection.
   */
  async inject(tabId: number): Promise<void> {
    // Apart: without the MAIN-world part the recorder still works (it only misses script changes).
    try {
      await browser.scripting.executeScript({ target: { tabId, allFrames: true }, files: ["capture-main.js"], world: "MAIN" });
    } catch (error) {
      console.warn("glimpse: could not inject page-script capture into tab", tabId, error);
    }
    try {
      await browser.scripting.executeScript({ target: { tabId, allFrames: true }, files: ["capture.js"] });
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
    if (this.recording.has(tabId)) return this.post(port, { t: "snapshot" });
    void this.startRecording(tabId, port);
  }

  private async startRecording(tabId: number, port: Runtime.Port): Promise<void> {
    this.recording.add(tabId);
    this.post(port, { t: "start", maskSelectors: await this.maskSelectors(port) });
  }

  private maskSelectors(port: Runtime.Port): Promise<string[]> {
    // A frame's site rule is the shared page's: the visitor shared that site.
    return this.deps.maskSelectors(port.sender?.tab?.url ?? port.sender?.url ?? "");
  }

  /** An agent's pointer or highlight, to the shared tab's top frame (whose recorder knows the node it names). */
  mark(message: AgentMark): void {
    if (this.marksHidden) return;
    for (const [tabId, port] of this.ports) if (this.recording.has(tabId)) this.post(port, message);
  }

  /** The controlling agent's action, to the shared tab's top frame (whose recorder knows the node it names). */
  control(action: ControlAction): void {
    for (const [tabId, port] of this.ports) if (this.recording.has(tabId)) this.post(port, { t: "control", action });
  }

  /** Have the shared page report the visitor's own input (and Escape) while control is on; a page loaded meanwhile is told too. */
  watchActivity(on: boolean): void {
    this.watchingActivity = on;
    for (const port of this.ports.values()) this.post(port, { t: "watchActivity", on });
  }

  setMarksHidden(hidden: boolean): void {
    this.marksHidden = hidden;
    if (hidden) for (const port of this.ports.values()) this.post(port, { t: "marksOff" });
  }

  stop(tabId: number): void {
    const port = this.ports.get(tabId);
    if (port) this.post(port, { t: "stop" });
    port?.disconnect();
    this.ports.delete(tabId);
    this.recording.delete(tabId);
    for (const child of this.children.values()) {
      this.post(child.port, { t: "stop" });
      child.port.disconnect();
    }
    this.children.clear();
  }

  private post(port: Runtime.Port, message: BackgroundToCapture): void {
    try {
      port.postMessage(message);
    } catch {
      // the page went away: its onDisconnect cleans up
    }
  }

  private async onConnect(port: Runtime.Port): Promise<void> {
    if (port.name !== CAPTURE_PORT) return;
    const tabId = port.sender?.tab?.id;
    const frameId = port.sender?.frameId ?? 0;
    const live = await this.deps.liveTab();
    // The shared page's address (a frame's own address is another site's, by design).
    const url = frameId === 0 ? (port.sender?.url ?? port.sender?.tab?.url ?? "") : (port.sender?.tab?.url ?? "");
    // Only the shared tab, and only while it stays on the site where the session started.
    if (tabId === undefined || !live || live.tabId !== tabId || !sameSite(url, live.site)) {
      port.postMessage({ t: "stop" } satisfies BackgroundToCapture);
      return port.disconnect();
    }
    this.assets.forSession(live.sessionKey);
    if (frameId !== 0) return this.onChildConnect(tabId, frameId, port);
    this.ports.get(tabId)?.disconnect();
    this.ports.set(tabId, port);
    this.recording.delete(tabId);
    port.onDisconnect.addListener(() => {
      if (this.ports.get(tabId) !== port) return;
      this.ports.delete(tabId);
      this.recording.delete(tabId);
    });
    port.onMessage.addListener((raw: unknown) => this.onCaptureMessage(0, raw as CaptureToBackground));
    if (this.watchingActivity) this.post(port, { t: "watchActivity", on: true });
    // A new page in a watched session records at once; otherwise the first agent's join starts it.
    if (live.watched) await this.startRecording(tabId, port);
  }

  private onChildConnect(tabId: number, frameId: number, port: Runtime.Port): void {
    this.children.get(frameId)?.port.disconnect();
    // A new id block for every document: nothing of a frame's previous page is confused with it.
    const child: ChildFrame = { port, frameId, token: null, place: { slot: this.nextSlot++, iframeId: -1 }, parent: null, recording: false, awaitingSnapshot: true };
    this.children.set(frameId, child);
    port.onDisconnect.addListener(() => {
      if (this.children.get(frameId) === child) this.children.delete(frameId);
    });
    port.onMessage.addListener((raw: unknown) => {
      const message = raw as CaptureToBackground;
      if (message.t === "frame" && typeof message.token === "string") {
        child.token = message.token.slice(0, 64);
        if (this.recording.has(tabId)) this.post(port, { t: "announce" });
      } else this.onCaptureMessage(frameId, message);
    });
  }

  /** Frames and links from the top frame (0) or a child frame. */
  private onCaptureMessage(from: number, message: CaptureToBackground): void {
    if (message.t === "frames" && Array.isArray(message.events) && message.events.length > 0) {
      const events = from === 0 ? message.events : this.placeChildEvents(from, message.events);
      if (events.length > 0) this.forward(events);
      // A new snapshot of this frame's document holds its iframes anew: their frames link again.
      if (events.length > 0 && message.events.some(isFullSnapshot)) this.relinkChildrenOf(from);
    } else if (message.t === "link" && typeof message.token === "string" && Number.isInteger(message.id)) {
      this.link(from, message.token, message.id);
    } else if (message.t === "framesChanged") {
      this.reinjectSoon();
    } else if (from === 0 && (message.t === "activity" || message.t === "controlStop")) {
      this.deps.controlEvent({ t: message.t });
    } else if (from === 0 && message.t === "controlRefused" && isRefusal(message.reason)) {
      this.deps.controlEvent({ t: "controlRefused", reason: message.reason });
    } else if (from === 0 && message.t === "page" && typeof message.url === "string" && typeof message.title === "string") {
      this.deps.send({ t: "page", url: message.url.slice(0, 4096), title: message.title.slice(0, 1024) });
    }
  }

  private placeChildEvents(frameId: number, events: unknown[]): unknown[] {
    const child = this.children.get(frameId);
    // Not placed yet (or its iframe's place was re-sent): nothing to show it in.
    if (!child?.recording || child.place.iframeId < 0) return [];
    // After a (re)link, the agent has none of this frame's nodes until its next full snapshot.
    if (child.awaitingSnapshot) {
      const first = events.findIndex(isFullSnapshot);
      if (first < 0) return [];
      child.awaitingSnapshot = false;
      events = events.slice(first);
    }
    return events.flatMap((event) => placeFrameEvent(event as Parameters<typeof placeFrameEvent>[0], child.place));
  }

  private forward(events: unknown[]): void {
    // Large snapshots go in pieces under the server's message limit (src/capture/chunks.ts).
    for (const packed of pack(events, () => `${this.chunkPrefix}-${this.chunkId++}`)) {
      if (packed.t === "chunk") this.deps.send(packed);
      else this.deps.send({ t: "frames", seq: this.seq++, events: packed.events as { type: number; timestamp: number }[] });
    }
    // Then the resources those events name, each once per session.
    for (const event of events) this.assets.want(collectUrls(event));
  }

  /** The frames inside `parent`'s document must be placed again: ask each to show its token. */
  private relinkChildrenOf(parent: number): void {
    for (const child of this.children.values()) {
      if (child.parent === parent || child.place.iframeId < 0) {
        if (child.parent === parent) child.place.iframeId = -1;
        if (child.token) this.post(child.port, { t: "announce" });
      }
    }
  }

  /** The recorder of frame `from` says the frame that showed `token` is its iframe `id`. */
  private link(from: number, token: string, id: number): void {
    const child = [...this.children.values()].find((candidate) => candidate.token === token);
    const parentOffset = from === 0 ? 0 : this.children.get(from)?.place.slot;
    if (!child || parentOffset === undefined || this.isAncestorOrSelf(child.frameId, from)) return;
    if (from !== 0 && !this.children.get(from)!.recording) return;
    child.parent = from;
    child.place.iframeId = parentOffset * FRAME_ID_SPAN + id;
    child.awaitingSnapshot = true;
    if (child.recording) return this.post(child.port, { t: "snapshot" });
    child.recording = true;
    void this.maskSelectors(child.port).then((maskSelectors) => this.post(child.port, { t: "start", maskSelectors }));
  }

  /** Whether `frameId` is `other` or one of its parents (a page forwarding tokens could make a loop). */
  private isAncestorOrSelf(frameId: number, other: number): boolean {
    for (let current: number | null = other, hops = 0; current !== null && current !== 0 && hops < 64; hops++) {
      if (current === frameId) return true;
      current = this.children.get(current)?.parent ?? null;
    }
    return false;
  }

  private reinjectSoon(): void {
    if (this.reinjectTimer) clearTimeout(this.reinjectTimer);
    this.reinjectTimer = setTimeout(() => {
      this.reinjectTimer = null;
      void this.deps.liveTab().then((live) => {
        if (live && this.ports.has(live.tabId)) void this.inject(live.tabId);
      });
    }, REINJECT_MS);
  }
}

const isFullSnapshot = (event: unknown) => (event as { type?: unknown } | null)?.type === 2;

export function sameSite(url: string, site: string): boolean {
  try {
    return new URL(url).origin === site;
  } catch {
    return false;
  }
}

const isRefusal = (value: unknown): value is ControlRefusal => v.is(ControlRefusal, value);
