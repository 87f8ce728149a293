/**
 * The page UI (Preact): loaded into a tab by the background only when Glimpse has something to
 * show there (a configured or linked site, a session, a terms request). Pages where Glimpse
 * shows nothing carry only the small page script. Lives in a closed shadow root: page CSS does not
 * reach in and page scripts cannot find it (`host.shadowRoot` is null for them). The host itself is
 * in the page's DOM, so its styles are inline `!important` and put back if the page changes them,
 * and it is put back if the page removes it.
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
let keeper: MutationObserver | null = null;

/** Inline !important beats the page's own !important rules (e.g. `* { display: none !important }`). */
function styleHost(element: HTMLElement): void {
  for (const name of element.getAttributeNames()) if (name !== "style" && name !== UI_ATTRIBUTE) element.removeAttribute(name);
  element.setAttribute(UI_ATTRIBUTE, "");
  element.removeAttribute("style");
  for (const [property, value] of Object.entries(HOST_STYLE)) element.style.setProperty(property, value, "important");
}

/** Undo what the page does to the host: other attributes or styles, or taking it out of the document. */
function keepHost(element: HTMLElement): MutationObserver {
  const expected = element.getAttribute("style");
  const observer = new MutationObserver(() => {
    if (element !== host) return;
    if (element.getAttribute("style") !== expected || element.attributes.length !== 2) styleHost(element);
    if (element.parentNode !== document.documentElement) document.documentElement.append(element);
    observer.takeRecords();
  });
  observer.observe(element, { attributes: true });
  observer.observe(document.documentElement, { childList: true });
  return observer;
}

function mount(): HTMLElement {
  host = document.createElement("glimpse-ui");
  styleHost(host);
  const shadow = host.attachShadow({ mode: "closed" });
  const style = document.createElement("style");
  style.textContent = STYLES;
  container = document.createElement("div");
  container.className = "root";
  shadow.append(style, container);
  document.documentElement.append(host);
  keeper = keepHost(host);
  return container;
}

const bundle: UiBundle = {
  draw(props) {
    render(<App {...props} />, container ?? mount());
  },
  remove() {
    keeper?.disconnect();
    if (container) render(null, container);
    host?.remove();
    host = container = null;
    keeper = null;
  },
};

(globalThis as Record<string, unknown>)[UI_GLOBAL] ??= bundle;
