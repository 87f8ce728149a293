import { describe, expect, it } from "vitest";
import { MAX_EVENTS_PER_FRAME, pack, Reassembler } from "../../src/capture/chunks";

let n = 0;
const newId = () => `c${n++}`;
const size = (message: unknown) => new TextEncoder().encode(JSON.stringify(message)).length;

describe("packing recorded events", () => {
  it("sends small batches as one frames message", () => {
    const events = [{ type: 3, timestamp: 1 }, { type: 3, timestamp: 2 }];
    expect(pack(events, newId, 1000)).toEqual([{ t: "frames", events }]);
  });

  it("splits a batch so no message exceeds the budget, keeping order", () => {
    const events = Array.from({ length: 50 }, (_, i) => ({ type: 3, timestamp: i, data: "x".repeat(100) }));
    const packed = pack(events, newId, 1000);
    expect(packed.length).toBeGreaterThan(5);
    for (const message of packed) expect(size(message)).toBeLessThan(1000 + 100);
    expect(packed.flatMap((m) => (m.t === "frames" ? m.events : []))).toEqual(events);
  });

  it("caps the number of events per message", () => {
    const events = Array.from({ length: MAX_EVENTS_PER_FRAME + 5 }, (_, i) => ({ type: 3, timestamp: i }));
    const packed = pack(events, newId);
    expect(packed.map((m) => (m.t === "frames" ? m.events.length : 0))).toEqual([MAX_EVENTS_PER_FRAME, 5]);
  });

  it("chunks one oversized event (multi-byte text too) and reassembles it exactly", () => {
    const snapshot = { type: 2, timestamp: 5, data: { text: "Grüße 💥 ".repeat(5000) } };
    const before = { type: 4, timestamp: 4 };
    const packed = pack([before, snapshot, { type: 3, timestamp: 6 }], newId, 4096);
    expect(packed[0]).toEqual({ t: "frames", events: [before] });
    const chunks = packed.filter((m) => m.t === "chunk");
    expect(chunks.length).toBeGreaterThan(10);
    for (const chunk of chunks) expect(size(chunk)).toBeLessThan(4096 + 200);
    expect(packed.at(-1)).toEqual({ t: "frames", events: [{ type: 3, timestamp: 6 }] });
    const reassembler = new Reassembler();
    const results = chunks.map((c) => (c.t === "chunk" ? reassembler.add(c) : undefined));
    expect(results.slice(0, -1).every((r) => r === undefined)).toBe(true);
    expect(results.at(-1)).toEqual(snapshot);
  });

  it("drops a chunk stream that does not parse instead of throwing", () => {
    const reassembler = new Reassembler();
    expect(reassembler.add({ id: "x", index: 0, count: 2, data: '{"a":' })).toBeUndefined();
    expect(reassembler.add({ id: "x", index: 1, count: 2, data: "oops" })).toBeUndefined();
  });
});
