/**
 * The page bridge: a site talks to Glimpse with window.postMessage({ glimpse: 1, type, ... }).
 * Everything from the page is untrusted: validated, and never able to start a session or accept
 * terms (those need the visitor's click in Glimpse's own UI). Glimpse answers a page only after
 * the page spoke first, so pages cannot probe for the extension.
 */
import { parseBridgeCommand, type BridgeCommand, type BridgeEvent } from "~src/bridge";

export interface BridgeHandlers {
  initVisitor(command: Extract<BridgeCommand, { type: "initVisitor" }>): void;
  logout(): void;
  getState(): void;
}

let pageSpoke = false;

export function listenToPage(handlers: BridgeHandlers): () => void {
  const onMessage = (event: MessageEvent) => {
    const data: unknown = event.data;
    if (event.source !== window || typeof data !== "object" || data === null) return;
    const record = data as Record<string, unknown>;
    if (record.glimpse !== 1 || "event" in record) return; // not for us, or our own event echoed
    pageSpoke = true;
    const parsed = parseBridgeCommand(record);
    if (!parsed.ok) return postToPage({ glimpse: 1, event: "InvalidParameter", message: parsed.message });
    const command = parsed.command;
    if (command.type === "initVisitor") handlers.initVisitor(command);
    else if (command.type === "logout") handlers.logout();
    else handlers.getState();
  };
  window.addEventListener("message", onMessage);
  return () => window.removeEventListener("message", onMessage);
}

export function postToPage(event: BridgeEvent): void {
  if (pageSpoke) window.postMessage(event, location.origin);
}
