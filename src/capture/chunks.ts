/**
 * Large snapshots travel in pieces. A batch of recorded events is split into `frames` messages
 * under a byte budget; one event bigger than the budget (a full snapshot of a large page with its
 * stylesheets inlined) is serialised and cut into `chunk` messages that the agent reassembles.
 * The budget sits far below the server's message limit, so no frame is ever refused for size.
 */
export const CHUNK_BYTES = 256 * 1024;
/** The protocol caps events per frames message. */
export const MAX_EVENTS_PER_FRAME = 1000;

export type Packed = { t: "frames"; events: unknown[] } | { t: "chunk"; id: string; index: number; count: number; data: string };

const encoder = new TextEncoder();
/** UTF-8 size, measured only when the cheap upper bound (3 bytes per UTF-16 unit) is over budget. */
function bytes(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : encoder.encode(text).length;
}

export function pack(events: unknown[], newId: () => string, limit = CHUNK_BYTES): Packed[] {
  const out: Packed[] = [];
  let batch: unknown[] = [];
  let batchBytes = 0;
  const flush = () => {
    if (batch.length) out.push({ t: "frames", events: batch });
    batch = [];
    batchBytes = 0;
  };
  for (const event of events) {
    const json = JSON.stringify(event);
    const size = bytes(json, limit);
    if (size > limit) {
      flush();
      // Cut by characters; budget / 3 keeps every piece under the byte budget whatever the text.
      const step = Math.floor(limit / 3);
      const count = Math.ceil(json.length / step);
      const id = newId();
      for (let index = 0; index < count; index++) out.push({ t: "chunk", id, index, count, data: json.slice(index * step, (index + 1) * step) });
      continue;
    }
    if (batchBytes + size > limit || batch.length >= MAX_EVENTS_PER_FRAME) flush();
    batch.push(event);
    batchBytes += size;
  }
  flush();
  return out;
}

/** Agent side: collects the pieces of each chunked event; returns the event once complete. */
export class Reassembler {
  private readonly parts = new Map<string, string[]>();

  add(chunk: { id: string; index: number; count: number; data: string }): unknown | undefined {
    let parts = this.parts.get(chunk.id);
    if (!parts) this.parts.set(chunk.id, (parts = []));
    parts[chunk.index] = chunk.data;
    if (parts.filter((p) => p !== undefined).length < chunk.count) return undefined;
    this.parts.delete(chunk.id);
    try {
      return JSON.parse(parts.join(""));
    } catch {
      return undefined; // a broken chunk stream: drop it; the next snapshot repairs the view
    }
  }
}
