/**
 * The page UI (Preact): loaded into a tab by the background only when Glimpse has something to
 * show there (a configured or linked site, a session, a terms request). Pages where Glimpse
 * shows nothing carry only the small page script. Lives in a shadow root immune to page CSS.
 */
import { render } from "preact";
import { UI_ATTRIBUTE } from "~src/capture/masking";
import { App } from "./App";
import { STYLES } from "./styles";
import { UI_GLOBAL, type UiBundle } from "./types";

const HOST_STYLE = {
  all: "initial",
  display: "block",
  visibility: "visible",
  position: "fixed",
  top: "0",
  left: "0",
  width: "0",
  height: "0",
  opacity: "1",
  "z-index": "2147483647",
};

let host: HTMLElement | null = null;
let container: HTMLElement | null = null;

function mount(): HTMLElement {
  host = document.createElement("glimpse-ui");
  host.setAttribute(UI_ATTRIBUTE, "");
  // Inline !important beats the page's own !important rules (e.g. `* { display: none !important }`).
  for (const [property, value] of Object.entries(HOST_STYLE)) host.style.setProperty(property, value, "important");
  const shadow = host.attachShadow({ mode: "open" });
  const style = document.createElement("style");
  style.textContent = STYLES;
  container = document.createElement("div");
  container.className = "root";
  shadow.append(style, container);
  document.documentElement.append(host);
  return container;
}

const bundle: UiBundle = {
  draw(props) {
    render(<App {...props} />, container ?? mount());
  },
  remove() {
    if (container) render(null, container);
    host?.remove();
    host = container = null;
  },
};

(globalThis as Record<string, unknown>)[UI_GLOBAL] ??= bundle;
