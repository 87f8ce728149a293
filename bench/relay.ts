/**
 * Relay fan-out: 1 visitor → 1, 5, 20 agents, and 200 concurrent sessions, through the Glimpse
 * server and through a socket.io room relay (OpenReplay Assist's stack), in the same run, with the
 * same payloads and the same client loop. Throughput at saturation; latency at a paced 200 msg/s.
 */
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { cpuMs, median, percentile, round, sleep, startChild, type ChildServer } from "./lib";

/** A realistic rrweb incremental event (a mutation with some text), ~1 KB on the wire. */
const EVENT_DATA = {
  source: 0,
  texts: [],
  attributes: [{ id: 812, attributes: { class: "card product-card is-highlighted", style: "transform: translateY(0px)" } }],
  removes: [],
  adds: [{ parentId: 811, nextId: null, node: { type: 2, tagName: "div", attributes: { class: "price" }, childNodes: [], id: 900 } }, { parentId: 900, nextId: null, node: { type: 3, textContent: "€49.00 — Terracotta lamp, hand-thrown clay, warm light. ".repeat(8), id: 901 } }],
};
const payload = (seq: number) => JSON.stringify({ t: "frames", seq, events: [{ type: 3, timestamp: performance.now(), data: EVENT_DATA }] });
const sentAt = (text: string) => (JSON.parse(text) as { events: { timestamp: number }[] }).events[0]!.timestamp;

interface Endpoint {
  /** Messages each agent has received so far. */
  received: number[];
  latencies: number[];
  send(text: string): void;
  buffered(): number;
  close(): void;
}

type Session = { visitor: Endpoint; agents: Endpoint[] };

// ── Glimpse clients ──
function wsOpen(url: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers, perMessageDeflate: false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}
function next(socket: WebSocket, t: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString());
      if (message.t === t) {
        socket.off("message", listener);
        resolve(message);
      }
    };
    socket.on("message", listener);
  });
}

async function glimpseSession(port: number, cookie: string, agents: number): Promise<Session> {
  const base = `ws://127.0.0.1:${port}`;
  // As the extension does: the visitor endpoint refuses a connection without Origin.
  const v = await wsOpen(`${base}/ws/visitor`, { Origin: "chrome-extension://glimpsebenchglimpsebenchglimpsebe" });
  v.send(JSON.stringify({ t: "hello", v: 1, groupId: "bench", client: "bench" }));
  await next(v, "welcome");
  v.send(JSON.stringify({ t: "startSession", keyType: "random", site: "https://bench.test" }));
  const { sessionKey } = (await next(v, "sessionStarted")) as { sessionKey: string };
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < agents; i++) {
    const a = await wsOpen(`${base}/ws/agent`, { Cookie: cookie });
    a.send(JSON.stringify({ t: "hello", v: 1 }));
    await next(a, "welcome");
    a.send(JSON.stringify({ t: "join", key: sessionKey }));
    await next(a, "joined");
    const endpoint: Endpoint = { received: [0], latencies: [], send: () => undefined, buffered: () => 0, close: () => a.close() };
    a.on("message", (data) => {
      // Cheap on the client: parse only every 10th message (the client must not be the bottleneck).
      if ((data as Buffer)[6] !== 0x66) return; // {"t":"f…
      if (endpoint.received[0]!++ % 10 === 0) endpoint.latencies.push(performance.now() - sentAt(data.toString()));
    });
    endpoints.push(endpoint);
  }
  v.on("message", (data) => {
    if (data.toString() === '{"t":"ping"}') v.send('{"t":"pong"}');
  });
  return {
    visitor: { received: [0], latencies: [], send: (text) => v.send(text), buffered: () => v.bufferedAmount, close: () => v.close() },
    agents: endpoints,
  };
}

// ── socket.io clients ──
function ioOpen(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = ioClient(`http://127.0.0.1:${port}`, { transports: ["websocket"], forceNew: true, perMessageDeflate: false } as never);
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

let roomCounter = 0;
async function socketioSession(port: number, agents: number): Promise<Session> {
  const room = `room-${roomCounter++}`;
  const v = await ioOpen(port);
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < agents; i++) {
    const a = await ioOpen(port);
    a.emit("join", room);
    const endpoint: Endpoint = { received: [0], latencies: [], send: () => undefined, buffered: () => 0, close: () => a.close() };
    a.on("frames", (text: string) => {
      if (endpoint.received[0]!++ % 10 === 0) endpoint.latencies.push(performance.now() - sentAt(text));
    });
    endpoints.push(endpoint);
  }
  await sleep(100); // joins are not acknowledged; let them land
  const engine = () => (v.io.engine as unknown as { transport?: { ws?: { bufferedAmount: number } } }).transport?.ws?.bufferedAmount ?? 0;
  return { visitor: { received: [0], latencies: [], send: (text) => v.emit("frames", room, text), buffered: engine, close: () => v.close() }, agents: endpoints };
}

/** Send `messages` per session as fast as the sockets drain; wait for every delivery. */
async function saturate(sessions: Session[], messages: number, server: ChildServer) {
  const cpuBefore = cpuMs(server.pid);
  const start = performance.now();
  for (let seq = 0; seq < messages; seq++) {
    for (const s of sessions) s.visitor.send(payload(seq));
    if (seq % 50 === 49) {
      while (sessions.some((s) => s.visitor.buffered() > 1 << 20)) await sleep(1);
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
  const expected = messages * sessions.reduce((n, s) => n + s.agents.length, 0);
  const delivered = () => sessions.reduce((n, s) => n + s.agents.reduce((m, a) => m + a.received[0]!, 0), 0);
  const deadline = Date.now() + 120_000;
  while (delivered() < expected && Date.now() < deadline) await sleep(5);
  const seconds = (performance.now() - start) / 1000;
  const bytes = delivered() * payload(0).length;
  return { deliveries: delivered(), expected, perSecond: delivered() / seconds, mbPerSecond: bytes / seconds / 1e6, cpuMsPerThousand: ((cpuMs(server.pid) - cpuBefore) / delivered()) * 1000 };
}

/** Send at a steady 200 msg/s per session for 3 s and read the latency each delivery saw. */
async function paced(sessions: Session[]) {
  for (const s of sessions) for (const a of s.agents) a.latencies.length = 0;
  for (let i = 0; i < 600; i++) {
    for (const s of sessions) s.visitor.send(payload(i));
    await sleep(5);
  }
  await sleep(500);
  const latencies = sessions.flatMap((s) => s.agents.flatMap((a) => a.latencies));
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

export interface RelayResult {
  scenario: string;
  glimpse: { perSecond: number; mbPerSecond: number; cpuMsPerThousand: number; p50: number; p99: number };
  socketio: { perSecond: number; mbPerSecond: number; cpuMsPerThousand: number; p50: number; p99: number };
  throughputRatio: number;
  p99Ratio: number;
}

export async function benchRelay(): Promise<RelayResult[]> {
  const scenarios = [
    { scenario: "1 visitor → 1 agent", sessions: 1, agents: 1, messages: 15_000 },
    { scenario: "1 visitor → 5 agents", sessions: 1, agents: 5, messages: 6_000 },
    { scenario: "1 visitor → 20 agents", sessions: 1, agents: 20, messages: 2_000 },
    { scenario: "200 sessions × 1 agent", sessions: 200, agents: 1, messages: 100 },
  ];
  const glimpse = await startChild("bench/glimpse-server.ts");
  const socketio = await startChild("bench/socketio-server.ts");
  const login = await fetch(`http://127.0.0.1:${glimpse.port}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "agent", password: "bench password" }),
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const results: RelayResult[] = [];
  try {
    for (const sc of scenarios) {
      const run = async (kind: "glimpse" | "socketio") => {
        const sessions: Session[] = [];
        for (let i = 0; i < sc.sessions; i++) sessions.push(kind === "glimpse" ? await glimpseSession(glimpse.port, cookie, sc.agents) : await socketioSession(socketio.port, sc.agents));
        const throughput = await saturate(sessions, sc.messages, kind === "glimpse" ? glimpse : socketio);
        const latency = await paced(sessions);
        for (const s of sessions) [s.visitor, ...s.agents].forEach((e) => e.close());
        await sleep(200);
        return { ...throughput, ...latency };
      };
      // Three rounds, alternating which side goes first; medians of each figure.
      const rounds: { g: Awaited<ReturnType<typeof run>>; s: Awaited<ReturnType<typeof run>> }[] = [];
      for (let i = 0; i < 3; i++) {
        const glimpseFirst = i % 2 === 0;
        const a = await run(glimpseFirst ? "glimpse" : "socketio");
        const b = await run(glimpseFirst ? "socketio" : "glimpse");
        rounds.push(glimpseFirst ? { g: a, s: b } : { g: b, s: a });
      }
      const mid = (side: "g" | "s") => {
        const of = (key: "perSecond" | "mbPerSecond" | "cpuMsPerThousand" | "p50" | "p99") => median(rounds.map((r) => r[side][key]));
        return { perSecond: of("perSecond"), mbPerSecond: of("mbPerSecond"), cpuMsPerThousand: of("cpuMsPerThousand"), p50: of("p50"), p99: of("p99") };
      };
      const g = mid("g");
      const s = mid("s");
      const pick = (r: typeof g) => ({ perSecond: round(r.perSecond, 0), mbPerSecond: round(r.mbPerSecond, 2), cpuMsPerThousand: round(r.cpuMsPerThousand, 1), p50: round(r.p50, 2), p99: round(r.p99, 2) });
      results.push({ scenario: sc.scenario, glimpse: pick(g), socketio: pick(s), throughputRatio: round(g.perSecond / s.perSecond, 2), p99Ratio: round(g.p99 / s.p99, 2) });
      console.log(`  relay ${sc.scenario}: glimpse ${round(g.perSecond, 0)} msg/s p99 ${round(g.p99, 1)} ms · socket.io ${round(s.perSecond, 0)} msg/s p99 ${round(s.p99, 1)} ms`);
    }
  } finally {
    await glimpse.stop();
    await socketio.stop();
  }
  return results;
}
