/**
 * Injected into the shared tab only while a session is live (background/capture.ts). Runs in the
 * isolated world: the page cannot reach the recorder or its masking, and sees none of its state.
 */
import { startRecorder, type Recorder } from "~src/capture/recorder";
import type { BackgroundToCapture, CaptureToBackground } from "~src/messages";
import { CAPTURE_PORT, KEEPALIVE_MS } from "~src/ports";

type Ext = typeof chrome;
const g = globalThis as unknown as { browser?: Ext; chrome?: Ext; __glimpseCapture?: boolean };
const ext = (g.browser ?? g.chrome)!;

const RECONNECT_TRIES = 5;

if (!g.__glimpseCapture) {
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
  port.onMessage.addListener((message: BackgroundToCapture) => {
    if (message.t === "start" && !recorder) {
      attempt = 0;
      post({ t: "page", url: location.href, title: document.title });
      recorder = startRecorder({ rules: { selectors: message.maskSelectors }, send: (events) => post({ t: "frames", events }) });
    } else if (message.t === "snapshot") {
      recorder?.snapshot();
    } else if (message.t === "stop") {
      stopped = true;
      recorder?.stop();
      recorder = null;
      g.__glimpseCapture = false;
    }
  });
  port.onDisconnect.addListener(() => {
    clearInterval(keepalive);
    recorder?.stop();
    recorder = null;
    if (stopped) return;
    // The background restarted (service worker stopped): reconnecting wakes it; it decides.
    if (attempt < RECONNECT_TRIES) setTimeout(() => connect(attempt + 1), 200 * 2 ** attempt);
    else g.__glimpseCapture = false;
  });
}
