/**
 * Cheap checks that run before a frame is parsed, so a few kilobytes on the wire cannot buy
 * seconds of server CPU: a bounded nesting depth (JSON.parse of 4 MB of nested brackets takes
 * ~0.75 s, and ~4 KB compressed carries it), a small frame before hello, and a budget of handler
 * time per connection.
 */

/**
 * Deepest JSON nesting accepted. rrweb's full snapshot nests two levels per DOM level
 * (node → childNodes), and HTML parsers stop nesting at 512 elements: 1,200 leaves room.
 */
export const MAX_JSON_DEPTH = 1_200;

/** Before hello only a hello fits: a visitor ID, a token of at most 4 KB, a name. */
export const PRE_HELLO_MAX_BYTES = 16 * 1024;

/**
 * Whether `bytes` (UTF-8 JSON text) nests no deeper than `max`. One pass over the bytes, stopping
 * at the first level too deep; brackets inside strings do not count. Multi-byte UTF-8 sequences
 * never contain these ASCII bytes, so bytes are scanned as they are.
 */
export function depthWithin(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped byte
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return false;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return true;
}

/**
 * Handler time a connection may use: a bucket of `burstMs` refilled at `perSecondMs` each second.
 * An honest visitor's join snapshot of a 100,000-node page costs ~100 ms to parse; a client that
 * keeps the event loop busier than its share is closed.
 */
const performanceNow = () => performance.now();

export class WorkBudget {
  private left: number;
  private at: number;

  constructor(
    private readonly perSecondMs: number,
    private readonly burstMs = perSecondMs * 4,
    private readonly now: () => number = performanceNow,
  ) {
    this.left = burstMs;
    this.at = now();
  }

  /** Charge `ms` of work; false once the connection has used more than it may. */
  spend(ms: number): boolean {
    const now = this.now();
    this.left = Math.min(this.burstMs, this.left + ((now - this.at) * this.perSecondMs) / 1000);
    this.at = now;
    this.left -= ms;
    return this.left >= 0;
  }
}
