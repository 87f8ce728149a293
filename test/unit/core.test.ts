import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/errors";
import { formatKey, generateKey, normalizeKey } from "../../src/keys";
import { parseAgentMessage, parseVisitorMessage } from "../../src/protocol";
import { backoffDelay, DEFAULT_BACKOFF } from "../../src/reconnect";
import { httpOrigin, matchesPattern, visitorSocketUrl } from "../../src/settings";

describe("session keys", () => {
  it("are digits only, of the group's length", () => {
    let i = 0;
    const digits = [3, 1, 4, 1, 5, 9, 2, 6];
    expect(generateKey(6, () => digits[i++]!)).toBe("314159");
    expect(generateKey(8, (max) => max - 1)).toBe("99999999");
  });

  it("refuse lengths outside 4..12", () => {
    expect(() => generateKey(3, () => 0)).toThrow(RangeError);
    expect(() => generateKey(13, () => 0)).toThrow(RangeError);
  });

  it("accept spaces and dashes as read aloud, reject anything else", () => {
    expect(normalizeKey(" 123 456 ")).toBe("123456");
    expect(normalizeKey("123-456")).toBe("123456");
    expect(normalizeKey("12a456")).toBeNull();
    expect(normalizeKey("")).toBeNull();
  });

  it("are grouped in threes for reading", () => {
    expect(formatKey("123456")).toBe("123 456");
    expect(formatKey("1234")).toBe("1234");
  });
});

describe("reconnect policy", () => {
  it("doubles from 1 s up to the 30 s cap", () => {
    const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, Math.random, noJitter))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  it("jitters downwards within the configured share", () => {
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(0, () => 0)).toBe(1000);
  });

  it("gives up after maxAttempts", () => {
    expect(backoffDelay(3, () => 0, { ...DEFAULT_BACKOFF, maxAttempts: 3 })).toBeNull();
  });
});

describe("protocol validation", () => {
  it("accepts a valid hello and frames", () => {
    expect(parseVisitorMessage(JSON.stringify({ t: "hello", v: 1, groupId: "demo", client: "x" })).ok).toBe(true);
    expect(parseVisitorMessage(JSON.stringify({ t: "frames", seq: 0, events: [{ type: 2, timestamp: 1, data: {} }] })).ok).toBe(true);
  });

  it.each([
    ["invalid JSON", "{"],
    ["an unknown type", '{"t":"nope"}'],
    ["a group id with spaces", '{"t":"hello","v":1,"groupId":"a b","client":"x"}'],
    ["a negative seq", '{"t":"frames","seq":-1,"events":[]}'],
    ["null", "null"],
  ])("rejects %s with BAD_MESSAGE and a message saying what is wrong", (_name, text) => {
    const result = parseVisitorMessage(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("BAD_MESSAGE");
      expect(result.error.message.length).toBeGreaterThan(10);
    }
  });

  it("points at the offending field", () => {
    const result = parseAgentMessage('{"t":"join","key":5}');
    expect(!result.ok && result.error.message).toContain('"key"');
  });
});

describe("settings", () => {
  it("matches site patterns", () => {
    expect(matchesPattern("http://127.0.0.1:8787/demo/*", "http://127.0.0.1:8787/demo/cart.html")).toBe(true);
    expect(matchesPattern("http://127.0.0.1:8787/demo/*", "http://127.0.0.1:8787/console/")).toBe(false);
    expect(matchesPattern("https://*.example.com/*", "https://shop.example.com/x")).toBe(true);
    expect(matchesPattern("https://*.example.com/*", "https://example.org/x")).toBe(false);
    expect(matchesPattern("https://shop.test/a.b", "https://shop.test/aXb")).toBe(false);
  });

  it("knows which pages can be shared", () => {
    expect(httpOrigin("https://shop.test/a?b")).toBe("https://shop.test");
    expect(httpOrigin("chrome://extensions")).toBeNull();
    expect(httpOrigin("not a url")).toBeNull();
  });

  it("derives the visitor socket URL", () => {
    expect(visitorSocketUrl("http://127.0.0.1:8787")).toBe("ws://127.0.0.1:8787/ws/visitor");
    expect(visitorSocketUrl("https://glimpse.example.com/base/")).toBe("wss://glimpse.example.com/base/ws/visitor");
    expect(visitorSocketUrl("https://glimpse.example.com/base/", "presence")).toBe("wss://glimpse.example.com/base/ws/visitor?role=presence");
  });
});

describe("error table", () => {
  it("gives every code an actionable message, documented in the README", async () => {
    const { readFileSync } = await import("node:fs");
    const readme = readFileSync("README.md", "utf8");
    for (const [code, message] of Object.entries(ERRORS)) {
      expect(message.length, code).toBeGreaterThan(15);
      expect(readme, `README documents ${code}`).toContain(`\`${code}\``);
    }
  });
});
