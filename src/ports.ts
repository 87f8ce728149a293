/** Port names, kept apart from the schemas so the page script imports no validator. */
export const CAPTURE_PORT = "glimpse-capture";
/**
 * Port from the page script of a tab on a linked site. While one is open the background holds
 * presence; it closes with the tab, and reconnecting it wakes a stopped background.
 */
export const PRESENCE_PORT = "glimpse-presence";

/**
 * While presence or a session is live, the page side sends a port message at this interval.
 * Firefox suspends an event page after 30 s without extension events even with an open
 * WebSocket, and Chrome counts port messages as activity too (DESIGN §3).
 */
export const KEEPALIVE_MS = 20_000;
