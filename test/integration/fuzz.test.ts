/**
 * 10,000 mutated frames over real sockets, from a seeded generator (failures reproduce with the
 * printed seed). The server must stay up, answer its health check, keep answering with stable
 * error codes, and a session running beside the fuzzing must be unharmed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERRORS } from "../../src/errors";
import { agent, Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

const FRAMES = 10_000;
const SEED = Number(process.env.GLIMPSE_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** mulberry32: small, seeded, good enough to pick mutations. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID = [
  { t: "hello", v: 1, groupId: "demo", client: "fuzz" },
  { t: "hello", v: 1, groupId: "demo", client: "fuzz", visitorId: "cust-1", role: "presence" },
  { t: "startSession", keyType: "random", site: "https://shop.test" },
  { t: "startSession", keyType: "visitor", site: "https://shop.test" },
  { t: "frames", seq: 1, events: [{ type: 3, timestamp: 1, data: { source: 5, text: "x", id: 4 } }] },
  { t: "page", url: "https://shop.test/a", title: "A" },
  { t: "presence", url: "https://shop.test/a", title: "A", visible: true },
  { t: "requestAnswer", id: "abcdefghijkl", status: "accepted" },
  { t: "hello", v: 1, groupId: "demo", client: "fuzz", role: "session", ticket: "a".repeat(43) },
  { t: "endSession" },
  { t: "pong" },
  { t: "join", key: "123456" },
  { t: "joinVisitor", visitorId: "cust-1" },
  { t: "watchVisitor", visitorId: "cust-1" },
  { t: "requestShare", visitorId: "cust-1" },
  { t: "leave" },
  { t: "cancelRequest", visitorId: "cust-1" },
];

const WEIRD_VALUES: unknown[] = [null, true, -1, 1e308, -0, NaN, "", "\u0000", "💥".repeat(50), "x".repeat(5000), [], {}, [[[[[]]]]], { __proto__: { admin: true } }, "__proto__", 2 ** 53 + 1];

function mutate(random: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const base = structuredClone(pick(VALID)) as Record<string, unknown>;
  const text = () => JSON.stringify(base);
  switch (Math.floor(random() * 10)) {
    case 0: {
      // flip a character
      const s = text();
      const i = Math.floor(random() * s.length);
      return s.slice(0, i) + String.fromCharCode(Math.floor(random() * 128)) + s.slice(i + 1);
    }
    case 1:
      return text().slice(0, Math.floor(random() * text().length)); // truncated
    case 2: {
      const keys = Object.keys(base);
      base[pick(keys)] = pick(WEIRD_VALUES);
      return text();
    }
    case 3:
      base.t = pick(["hello", "frames", "join", "", "constructor", "__proto__", "toString", 7]);
      return text();
    case 4: {
      let nested: unknown = base;
      for (let i = 0; i < 200; i++) nested = { t: "frames", events: [nested] };
      return JSON.stringify(nested);
    }
    case 5:
      return JSON.stringify({ ...base, extra: pick(WEIRD_VALUES), [pick(["__proto__", "constructor", "prototype"])]: { polluted: true } });
    case 6:
      return Array.from({ length: 1 + Math.floor(random() * 200) }, () => String.fromCharCode(Math.floor(random() * 0xffff))).join("");
    case 7:
      return JSON.stringify({ t: "frames", seq: Math.floor(random() * 1e9), events: Array.from({ length: Math.floor(random() * 50) }, () => pick(WEIRD_VALUES)) });
    case 8:
      return JSON.stringify(pick(WEIRD_VALUES));
    default:
      return text(); // a valid message in a random order
  }
}

let server: TestServer;

beforeAll(async () => {
  server = await startServer({ maxMessageBytes: 64 * 1024, maxConnectionsPerIp: 1000 });
  server.addGroup("demo");
  await server.addAgent("demo", "alice", "correct horse battery");
  await server.addAgent("demo", "fuzzer", "correct horse battery");
});

afterAll(async () => {
  await server.close();
});

describe(`protocol fuzzing (seed ${SEED})`, () => {
  it(`survives ${FRAMES} mutated frames while a session runs beside it`, async () => {
    const { client: visitor, key } = await sharingVisitor(server);
    const watcher = await agent(server, "alice", "correct horse battery");
    watcher.send({ t: "join", key });
    await watcher.next("joined");
    const cookie = await server.signIn("fuzzer", "correct horse battery");

    const random = prng(SEED);
    const errorCodes = new Set<string>();
    let sent = 0;
    let answered = 0;
    let connections = 0;
    const LANES = 8;
    await Promise.all(
      Array.from({ length: LANES }, async (_, lane) => {
        let client: Client | null = null;
        while (sent < FRAMES) {
          if (!client || client.socket.readyState !== client.socket.OPEN) {
            client = lane % 2 === 0 ? await Client.open(`${server.wsUrl}/ws/visitor`) : await Client.open(`${server.wsUrl}/ws/agent`, { Cookie: cookie });
            connections++;
            // Usually get past hello, so the fuzzing reaches the handlers behind it.
            if (random() < 0.8) client.send(lane % 2 === 0 ? { t: "hello", v: 1, groupId: "demo", client: "fuzz" } : { t: "hello", v: 1 });
            client.socket.on("message", (data) => {
              answered++;
              try {
                const message = JSON.parse(data.toString()) as { t?: string; code?: string };
                if (message.t === "error" && message.code) errorCodes.add(message.code);
              } catch {
                errorCodes.add("<unparseable server frame>");
              }
            });
          }
          const frame = mutate(random);
          sent++;
          client.send(frame);
          // Yield now and then, so a socket the server closed is noticed and reopened.
          if (sent % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
          if (sent % 200 === 0) {
            // Meanwhile the real session keeps flowing.
            visitor.send({ t: "frames", seq: sent, events: [{ type: 3, timestamp: Date.now(), data: { text: `beside-${sent}` } }] });
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
        client?.close();
      }),
    );

    expect(sent).toBeGreaterThanOrEqual(FRAMES);
    // Wait until the server has worked through the backlog (answers stop arriving).
    for (let last = -1, deadline = Date.now() + 60_000; answered !== last && Date.now() < deadline; ) {
      last = answered;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    process.stdout.write(`[fuzz] seed ${SEED}: ${sent} frames on ${connections} connections, ${answered} answers, codes ${[...errorCodes].join(" ")}\n`);
    // The server read and answered the storm (most mutated frames earn an error).
    expect(answered).toBeGreaterThan(FRAMES / 2);
    const health = await fetch(`${server.url}/healthz`).then((r) => r.json());
    expect(health.ok).toBe(true);
    // Every error the server sent has a stable code from the table.
    for (const code of errorCodes) expect(Object.keys(ERRORS), code).toContain(code);
    // The session beside is unharmed: still live, still relaying, in order.
    visitor.send({ t: "frames", seq: FRAMES + 1, events: [{ type: 3, timestamp: Date.now(), data: { text: "after the storm" } }] });
    const last = await watcher.next("frames", (m) => m.seq === FRAMES + 1, 10_000);
    expect(last).toBeTruthy();
    expect(watcher.received.some((m) => m.t === "sessionEnded")).toBe(false);
    visitor.close();
    watcher.close();
  }, 120_000);
});
