/**
 * The one script declared for every page: asks the background whether to show the Share screen
 * button here and renders the button, key and "agent is viewing" panel in a shadow root.
 * Sends nothing about the page except its URL to the background (inside the browser).
 */
import type { PlasmoCSConfig } from "plasmo";
import { h, render } from "preact";
import type { Responses, StateBroadcast } from "~src/messages";
import { UI_ATTRIBUTE } from "~src/capture/masking";
import { App } from "./ui/App";
import { ext, extensionAlive, request } from "./ui/ext";
import { STYLES } from "./ui/styles";

export const config: PlasmoCSConfig = {
  matches: ["<all_urls>"],
  run_at: "document_idle",
};

let status: Responses["getStatus"] | null = null;
let container: HTMLElement | null = null;
let host: HTMLElement | null = null;

function mount(): HTMLElement {
  host = document.createElement("glimpse-ui");
  host.setAttribute(UI_ATTRIBUTE, "");
  host.style.cssText = "all: initial; position: fixed; width: 0; height: 0; z-index: 2147483647;";
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = STYLES;
  container = document.createElement("div");
  container.className = "root";
  shadow.append(style, container);
  document.documentElement.append(host);
  return container;
}

function draw(): void {
  if (!extensionAlive()) return teardown();
  if (!status || !(status.show || status.thisTab)) {
    if (container) render(null, container);
    return;
  }
  render(h(App, { session: status.session, init: status.init, thisTab: status.thisTab, onRetryInit: () => void refresh() }), container ?? mount());
}

function teardown(): void {
  if (container) render(null, container);
  host?.remove();
  host = container = null;
  ext?.runtime?.onMessage?.removeListener(onMessage);
}

async function refresh(): Promise<void> {
  try {
    status = await request({ type: "getStatus", url: location.href });
  } catch {
    return teardown(); // the extension is gone or reloading
  }
  draw();
}

function onMessage(message: unknown): undefined {
  const broadcast = message as StateBroadcast;
  if (broadcast?.type !== "glimpse:state" || !status) return undefined;
  status = { ...status, session: broadcast.session, thisTab: broadcast.thisTab };
  draw();
  return undefined;
}

if (extensionAlive()) {
  ext!.runtime.onMessage.addListener(onMessage);
  void refresh();
}
