/**
 * Injected into the shared tab only while a session is live (background/capture.ts). Runs in the
 * isolated world: the page cannot reach the recorder or its masking, and sees none of its state.
 *
 * It runs in every frame. The top frame records the page, with its same-origin frames; a frame
 * whose parent is cross-origin records itself, and the background places its stream inside the
 * parent's (src/capture/frames.ts). To tell the background which iframe it is, such a frame shows
 * its ancestor windows a random token (the only thing that crosses the page), and the recorder
 * that holds the iframe answers with the iframe's id.
 */
import type { Recorder } from "~src/capture/recorder";
import type { MaskRules } from "~src/capture/masking";
import { applyControl, watchActivity } from "./control";
import { AgentMarks } from "./marks";
import type { BackgroundToCapture, CaptureToBackground } from "~src/messages";
import { CAPTURE_PORT, KEEPALIVE_MS } from "~src/ports";

type Ext = typeof chrome;
const g = globalThis as unknown as { browser?: Ext; chrome?: Ext; __glimpseCapture?: boolean };
const ext = (g.browser ?? g.chrome)!;

const RECONNECT_TRIES = 5;
/** Prefix of the token a cross-origin frame posts to its parent window. A string: nothing to unwrap in Firefox. */
const FRAME_TOKEN = "glimpse-frame:";
/** A newly seen iframe may not be in the parent's sent stream yet: wait for it this many times. */
const LINK_TRIES = 20;

const framed = window !== window.top;
/** A same-origin parent records this frame's document itself. */
const parentRecordsUs = framed && readableParent();
const token = crypto.randomUUID();

function readableParent(): boolean {
  try {
    return Boolean(window.parent.document);
  } catch {
    return false; // cross-origin
  }
}

function connect(attempt: number): void {
  let recorder: Recorder | null = null;
  const marks = new AgentMarks((id) => recorder?.nodeById(id) ?? null);
  let starting = false;
  let stopped = false;
  let rules: MaskRules = { selectors: [] };
  let stopWatching: (() => void) | null = null;
  let port: chrome.runtime.Port;
  try {
    port = ext.runtime.connect({ name: CAPTURE_PORT });
  } catch {
    g.__glimpseCapture = false; // the extension is gone
    return;
  }
  const post = (message: CaptureToBackground) => {
    try {
      port.postMessage(message);
    } catch {
      recorder?.stop();
    }
  };
  // An idle page sends no frames; this keeps a Firefox event page (and Chrome's worker) awake.
  const keepalive = setInterval(() => post({ t: "keepalive" }), KEEPALIVE_MS);
  const listening = new AbortController();
  // A cross-origin child frame showed its token: tell the background which of our iframes it is.
  const link = (frameToken: string, source: unknown, tries: number) => {
    if (!recorder) return;
    const id = recorder.frameElementId(source);
    if (id >= 0) post({ t: "link", token: frameToken, id });
    else if (tries < LINK_TRIES) setTimeout(() => link(frameToken, source, tries + 1), 100);
  };
  window.addEventListener(
    "message",
    (event) => {
      const data: unknown = event.data;
      if (typeof data !== "string" || !data.startsWith(FRAME_TOKEN) || data.length > 100 || !event.source || event.source === window) return;
      link(data.slice(FRAME_TOKEN.length), event.source, 0);
    },
    { signal: listening.signal },
  );
  // An iframe loaded a document (added, or navigated inside), here or in a same-origin frame we
  // record: the background puts a recorder in every frame that has none yet.
  new FrameWatch(() => post({ t: "framesChanged" }), listening.signal).watch(document);
  if (framed) post({ t: "frame", token });
  // Evaluate rrweb now, while the visitor reads the key out, when the page has nothing more urgent
  // to do: done in the task that starts recording, it made the join's longest block (30–110 ms).
  whenIdle(() => void loadRecorder());
  port.onMessage.addListener((message: BackgroundToCapture) => {
    if (message.t === "start" && !starting && !recorder) {
      starting = true;
      attempt = 0;
      rules = { selectors: message.maskSelectors };
      if (!framed) post({ t: "page", url: location.href, title: document.title });
      void loadRecorder().then(({ startRecorder }) => {
        starting = false;
        if (stopped || recorder || listening.signal.aborted) return;
        // Only the top frame's snapshot is sliced, and not in Firefox. Sliced inside cross-origin
        // frames, nested frames went missing from the agent's view (fidelity "frames"; cause not
        // found yet): frames are small documents, taken in one pass. Sliced in Firefox, a big page
        // changing during the walk ended with one row too many in the agent's view (20,001 vs
        // 20,000; the churn test of test/e2e/firefox.test.ts passes in one pass).
        recorder = startRecorder({ rules, send: (events) => post({ t: "frames", events }), sliced: !framed && !/Firefox\//.test(navigator.userAgent) });
        // Frames made after the background last injected, and loaded before this script listened,
        // have no recorder yet: one more injection reaches them (frames that have one ignore it).
        if (document.querySelector("iframe, frame")) post({ t: "framesChanged" });
      });
    } else if (message.t === "snapshot") {
      recorder?.snapshot();
    } else if (message.t === "pointer" && !framed) {
      marks.pointer(message.agent, message.target);
    } else if (message.t === "highlight" && !framed) {
      marks.highlight(message.agent, message.id);
    } else if (message.t === "draw" && !framed) {
      marks.draw(message.agent, message.stroke);
    } else if (message.t === "control" && !framed) {
      const current = recorder;
      const refused = current ? applyControl(message.action, (id) => current.nodeById(id), rules) : "missing";
      if (refused) post({ t: "controlRefused", reason: refused });
    } else if (message.t === "watchActivity" && !framed) {
      stopWatching?.();
      stopWatching = message.on ? watchActivity(() => post({ t: "activity" }), () => post({ t: "controlStop" })) : null;
    } else if (message.t === "marksOff") {
      marks.clear();
    } else if (message.t === "announce" && framed) {
      // The recorder holding our iframe is in the parent, or above it when the parent is a
      // same-origin frame recorded with its own parent: every ancestor hears it, one answers.
      for (let ancestor = window.parent; ; ancestor = ancestor.parent) {
        ancestor.postMessage(FRAME_TOKEN + token, "*");
        if (ancestor === window.top) break;
      }
    } else if (message.t === "stop") {
      stopped = true;
      marks.clear();
      stopWatching?.();
      recorder?.stop();
      recorder = null;
      g.__glimpseCapture = false;
    }
  });
  port.onDisconnect.addListener(() => {
    clearInterval(keepalive);
    marks.clear();
    stopWatching?.();
    listening.abort();
    recorder?.stop();
    recorder = null;
    if (stopped) return;
    // The background restarted (service worker stopped): reconnecting wakes it; it decides.
    if (attempt < RECONNECT_TRIES) setTimeout(() => connect(attempt + 1), 200 * 2 ** attempt);
    else g.__glimpseCapture = false;
  });
}

/**
 * rrweb is evaluated on first use, not on every injection: the background injects again whenever
 * a frame loads, and the guard at the end of this file makes those repeats cheap.
 */
let recorderModule: Promise<typeof import("~src/capture/recorder")> | null = null;
const loadRecorder = () => (recorderModule ??= import("~src/capture/recorder"));

/** `run` as a background-priority task (Prioritized Task Scheduling API), or an idle callback. */
function whenIdle(run: () => void): void {
  const scheduler = (globalThis as { scheduler?: { postTask?: (task: () => void, options: { priority: string }) => Promise<void> } }).scheduler;
  if (scheduler?.postTask) void scheduler.postTask(run, { priority: "background" });
  else requestIdleCallback(run, { timeout: 1000 });
}

const isFrame = (node: unknown): node is HTMLIFrameElement => {
  const name = (node as Node | null)?.nodeName;
  return name === "IFRAME" || name === "FRAME";
};

/** The document inside a frame, when this world can read it (same origin); null otherwise. */
function readableDocument(frame: HTMLIFrameElement): Document | null {
  try {
    return frame.contentDocument;
  } catch {
    return null;
  }
}

/**
 * Frame loads in this document and in the same-origin frames inside it (recorded with it, so no
 * script of ours runs in them to tell): `changed` is called for each. A same-origin frame's new
 * document is watched as it loads.
 */
class FrameWatch {
  private readonly watched = new WeakSet<Document>();

  constructor(
    private readonly changed: () => void,
    private readonly signal: AbortSignal,
  ) {}

  watch(doc: Document): void {
    if (this.watched.has(doc)) return;
    this.watched.add(doc);
    doc.addEventListener(
      "load",
      (event) => {
        if (!isFrame(event.target)) return;
        const inner = readableDocument(event.target);
        if (inner) this.watch(inner);
        this.changed();
      },
      { capture: true, signal: this.signal },
    );
    for (const frame of doc.querySelectorAll("iframe, frame")) {
      const inner = readableDocument(frame as HTMLIFrameElement);
      if (inner) this.watch(inner);
    }
  }
}

// Last: everything above is defined by now.
if (!g.__glimpseCapture && !parentRecordsUs) {
  g.__glimpseCapture = true;
  connect(0);
}
