/**
 * The presence port, held by a tab of a linked site. It tells the background which page the
 * visitor is on, and hears from it when to place the consent frame (which answers the background
 * itself, see contents/ui/terms-frame.tsx). If the background stops,
 * the port breaks; reconnecting wakes it, and it restores presence by itself.
 */
import type { BackgroundToPage, PageToBackground } from "~src/messages";
import { KEEPALIVE_MS, PRESENCE_PORT } from "~src/ports";
import { ext, extensionAlive } from "../ui/ext";

export interface PresencePort {
  send(message: PageToBackground): void;
  close(): void;
}

export function openPresencePort(onMessage: (message: BackgroundToPage) => void): PresencePort {
  let port: chrome.runtime.Port | null = null;
  let closed = false;
  let attempt = 0;
  const page = (): PageToBackground => ({ t: "page", url: location.href, title: document.title, visible: document.visibilityState === "visible" });
  const post = (message: PageToBackground) => {
    try {
      port?.postMessage(message);
    } catch {
      port = null; // the background stopped: onDisconnect reconnects
    }
  };
  const connect = () => {
    if (closed || !extensionAlive()) return;
    const connectedAt = Date.now();
    port = ext!.runtime.connect({ name: PRESENCE_PORT });
    port.onMessage.addListener((message: BackgroundToPage) => onMessage(message));
    port.onDisconnect.addListener(() => {
      port = null;
      // A port that lived a while broke because the background stopped: start the count afresh.
      if (Date.now() - connectedAt > 5_000) attempt = 0;
      if (!closed && attempt < 8) setTimeout(connect, Math.min(200 * 2 ** attempt++, 5_000));
    });
    post(page());
  };
  const onVisibility = () => post(page());
  document.addEventListener("visibilitychange", onVisibility);
  const keepalive = setInterval(() => post({ t: "keepalive" }), KEEPALIVE_MS);
  connect();
  return {
    send: post,
    close() {
      closed = true;
      clearInterval(keepalive);
      document.removeEventListener("visibilitychange", onVisibility);
      port?.disconnect();
      port = null;
    },
  };
}
