/** What the relay bench sends: the same bytes on every stack (bench/relay.ts, bench/relay-clients.ts). */

/** A realistic rrweb incremental event (a mutation with some text), ~1.2 KB on the wire: over the servers' 1 KB compression threshold. */
const EVENT_DATA = {
  source: 0,
  texts: [],
  attributes: [{ id: 812, attributes: { class: "card product-card is-highlighted", style: "transform: translateY(0px)" } }],
  removes: [],
  adds: [
    { parentId: 811, nextId: null, node: { type: 2, tagName: "div", attributes: { class: "price" }, childNodes: [], id: 900 } },
    { parentId: 900, nextId: null, node: { type: 3, textContent: "€49.00 — Terracotta lamp, hand-thrown clay, warm light. ".repeat(12), id: 901 } },
  ],
};
/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes on one machine. */
export const now = () => performance.timeOrigin + performance.now();
export const payload = (seq: number) => JSON.stringify({ t: "frames", seq, events: [{ type: 3, timestamp: now(), data: EVENT_DATA }] });

