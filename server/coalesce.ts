/**
 * Writes to one connection within an event-loop turn leave in one system call. The first send of
 * a turn corks the connection's stream; one `setImmediate` (after the turn's I/O callbacks)
 * uncorks every stream corked in the turn. A visitor's burst — one TCP read often holds dozens of
 * frames — then costs each agent one write instead of dozens. `ws` corks around each frame too;
 * corks nest, so its frames wait for ours. Compressed frames are written from zlib's callback and
 * simply start a later turn's batch.
 */
import type { Duplex } from "node:stream";

const corked = new Set<Duplex>();
let scheduled = false;

function uncorkAll(): void {
  scheduled = false;
  for (const stream of corked) stream.uncork();
  corked.clear();
}

/** Hold `stream`'s writes until the end of this turn. */
export function corkForTurn(stream: Duplex): void {
  if (corked.has(stream)) return;
  stream.cork();
  corked.add(stream);
  if (!scheduled) {
    scheduled = true;
    setImmediate(uncorkAll);
  }
}
