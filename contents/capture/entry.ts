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
import { startRecorder, type Recorder } from "~src/capture/recorder";
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

if (!g.__glimpseCapture && !parentRecordsUs) {
  g.__glimpseCapture = true;
  connect(0);
}

function connect(attempt: number): void {
  let recorder: Recorder | null = null;
  let stopped = false;
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
  // An iframe loaded a document (added, or navigated inside): the background puts a recorder in it.
  document.addEventListener(
    "load",
    (event) => {
      const target = event.target as Node | null;
      if (recorder && (target?.nodeName === "IFRAME" || target?.nodeName === "FRAME")) post({ t: "framesChanged" });
    },
    { capture: true, signal: listening.signal },
  );
  if (framed) post({ t: "frame", token });
  port.onMessage.addListener((message: BackgroundToCapture) => {
    if (message.t === "start" && !recorder) {
      attempt = 0;
      if (!framed) post({ t: "page", url: location.href, title: document.title });
      // Only the top frame's snapshot is sliced, and not in Firefox. Sliced snapshots inside
      // cross-origin frames lost a nested frame's content in the agent's view (fidelity "frames",
      // 3 runs in 3; cause not found yet); frames are small documents, taken in one pass as before.
      // In Firefox a sliced top frame lost the cross-origin frame inside a same-origin frame
      // (firefox-fidelity "frames", 1 run in 3; 0 in 4 unsliced): one pass there until that is found.
      recorder = startRecorder({ rules: { selectors: message.maskSelectors }, send: (events) => post({ t: "frames", events }), sliced: !framed && !/Firefox\//.test(navigator.userAgent) });
    } else if (message.t === "snapshot") {
      recorder?.snapshot();
    } else if (message.t === "announce" && framed) {
      // The recorder holding our iframe is in the parent, or above it when the parent is a
      // same-origin frame recorded with its own parent: every ancestor hears it, one answers.
      for (let ancestor = window.parent; ; ancestor = ancestor.parent) {
        ancestor.postMessage(FRAME_TOKEN + token, "*");
        if (ancestor === window.top) break;
      }
    } else if (message.t === "stop") {
      stopped = true;
      recorder?.stop();
      recorder = null;
      g.__glimpseCapture = false;
    }
  });
  port.onDisconnect.addListener(() => {
    clearInterval(keepalive);
    listening.abort();
    recorder?.stop();
    recorder = null;
    if (stopped) return;
    // The background restarted (service worker stopped): reconnecting wakes it; it decides.
    if (attempt < RECONNECT_TRIES) setTimeout(() => connect(attempt + 1), 200 * 2 ** attempt);
    else g.__glimpseCapture = false;
  });
}
