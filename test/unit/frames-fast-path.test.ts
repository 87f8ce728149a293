/**
 * The relay checks `frames` by hand (src/protocol/index.ts `framesOk`) instead of through the
 * schema. It may pass only what the `Frames` schema passes; what it does not pass goes to the
 * schema, so the visitor still gets the schema's error.
 */
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import { Frames, framesOk, parseServerToAgent, parseVisitorMessage } from "../../src/protocol";

const event = (extra: Record<string, unknown> = {}) => ({ type: 3, timestamp: 1733000000000.5, data: { source: 0, adds: [] }, ...extra });

const valid: unknown[] = [
  { t: "frames", seq: 0, events: [] },
  { t: "frames", seq: 7, events: [event(), event({ type: 2 }), { type: 0, timestamp: 0 }] },
  { t: "frames", seq: 1, events: [event()], extra: "ignored" },
  { t: "frames", seq: 2, events: Array.from({ length: 5000 }, () => event()) },
];

const invalid: unknown[] = [
  null,
  [],
  "frames",
  { t: "frames" },
  { t: "frame", seq: 0, events: [] },
  { t: "frames", seq: -1, events: [] },
  { t: "frames", seq: 1.5, events: [] },
  { t: "frames", seq: "1", events: [] },
  { t: "frames", seq: 0, events: {} },
  { t: "frames", seq: 0, events: [null] },
  { t: "frames", seq: 0, events: [[]] },
  { t: "frames", seq: 0, events: ["x"] },
  { t: "frames", seq: 0, events: [{ type: 3 }] },
  { t: "frames", seq: 0, events: [{ timestamp: 1 }] },
  { t: "frames", seq: 0, events: [{ type: 3.5, timestamp: 1 }] },
  { t: "frames", seq: 0, events: [{ type: "3", timestamp: 1 }] },
  { t: "frames", seq: 0, events: [{ type: 3, timestamp: "1" }] },
  { t: "frames", seq: 0, events: [event(), event({ timestamp: null })] },
  { t: "frames", seq: 0, events: Array.from({ length: 5001 }, () => event()) },
];

describe("the relay's hand check of frames", () => {
  it("passes the frames the schema passes (so they take the fast path)", () => {
    for (const message of valid) {
      expect(v.safeParse(Frames, message).success).toBe(true);
      expect(framesOk(message)).toBe(true);
    }
  });

  it("passes nothing the schema refuses", () => {
    for (const message of invalid) {
      expect(v.safeParse(Frames, message).success).toBe(false);
      expect(framesOk(message)).toBe(false);
    }
  });

  it("leaves the error to the schema: a bad event is named by its place", () => {
    const result = parseVisitorMessage(JSON.stringify({ t: "frames", seq: 0, events: [event(), { type: "x", timestamp: 1 }] }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toContain('"events.1.type"');
  });

  it("is the console's check too: relayed frames reach it whole, and a bad one is named by its place", () => {
    const frames = { t: "frames", seq: 3, events: [event({ data: { source: 0, adds: [{ parentId: 1, nextId: null, node: { id: 2 } }] }, extra: { kept: true } })] };
    const passed = parseServerToAgent(JSON.stringify(frames));
    expect(passed).toEqual({ ok: true, value: frames });
    const bad = parseServerToAgent(JSON.stringify({ t: "frames", seq: 0, events: [event(), { type: 2 }] }));
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.message).toContain('"events.1.timestamp"');
  });
});
