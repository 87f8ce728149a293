/** Port names, kept apart from the schemas so the page script imports no validator. */
export const CAPTURE_PORT = "glimpse-capture";
/**
 * Port from the page script of a tab on a linked site. While one is open the background holds
 * presence; it closes with the tab, and reconnecting it wakes a stopped background.
 */
export const PRESENCE_PORT = "glimpse-presence";
