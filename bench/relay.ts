/**
 * Relay fan-out: 1 visitor → 1, 5, 20 agents, and 200 concurrent sessions, through the Glimpse
 * server, a socket.io room relay (OpenReplay Assist's stack) and a bare `ws` room broadcast of the
 * same bytes (the practical limit), in the same run, with the same payloads. The clients run in
 * two child processes (bench/relay-clients.ts: senders, receivers), outside every server's
 * process; every agent decodes every message on every stack. Each scenario runs with compression
 * off and offered (permessage-deflate, as browsers offer it; all three servers configured alike).
 * The primary figure is the server's CPU time per 1,000 delivered messages (from /proc), plus
 * throughput at saturation and latency under a steady load below it.
 */
import type { ChildServer } from "./lib";
import { cpuMs, median, percentile, round, sleep, startChild } from "./lib";
import type { Command, Stack } from "./relay-clients";
import { payload } from "./relay-payload";

interface Clients {
  senders: ChildServer;
  receivers: ChildServer;
}

async function ask<T>(child: ChildServer, command: Command): Promise<T> {
  const reply = await child.ask<T & { error?: string }>(command);
  if (reply.error) throw new Error(`relay clients: ${reply.error}`);
  return reply;
}

interface Figures {
  perSecond: number;
  mbPerSecond: number;
  cpuMsPerThousand: number;
  p50: number;
  p99: number;
}

const PAYLOAD_BYTES = Buffer.byteLength(payload(0));

async function runOnce(clients: Clients, server: ChildServer, stack: Stack, cookie: string, sc: Scenario, compress: boolean): Promise<Figures> {
  const { senders, receivers } = clients;
  const { rooms } = await ask<{ rooms: string[] }>(senders, { cmd: "visitors", stack, port: server.port, sessions: sc.sessions, compress });
  await ask(receivers, { cmd: "agents", stack, port: server.port, cookie, rooms, perRoom: sc.agents, compress });
  await ask(receivers, { cmd: "reset" });
  const expected = sc.messages * sc.sessions * sc.agents;
  const delivered = async () => (await ask<{ delivered: number; latencies: number[] }>(receivers, { cmd: "count" })).delivered;

  const cpuBefore = cpuMs(server.pid);
  const start = performance.now();
  await ask(senders, { cmd: "saturate", messages: sc.messages });
  const deadline = Date.now() + 120_000;
  let got = await delivered();
  while (got < expected && Date.now() < deadline) {
    await sleep(5);
    got = await delivered();
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuMs(server.pid) - cpuBefore;

  await ask(receivers, { cmd: "reset" });
  await ask(senders, { cmd: "paced", messages: sc.paced.messages, intervalMs: sc.paced.intervalMs });
  await sleep(500);
  const { latencies } = await ask<{ delivered: number; latencies: number[] }>(receivers, { cmd: "count" });
  await ask(senders, { cmd: "close" });
  await ask(receivers, { cmd: "close" });
  await sleep(200);
  return { perSecond: got / seconds, mbPerSecond: (got * PAYLOAD_BYTES) / seconds / 1e6, cpuMsPerThousand: (cpu / got) * 1000, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

interface Scenario {
  scenario: string;
  sessions: number;
  agents: number;
  messages: number;
  /** Latency is read under a steady load below saturation: per session, `messages` at `intervalMs`. */
  paced: { messages: number; intervalMs: number };
}

export interface RelayResult {
  scenario: string;
  compression: boolean;
  glimpse: Figures;
  socketio: Figures;
  ws: Figures;
  /** Glimpse's server CPU per 1,000 messages over socket.io's: the hosting-cost figure (budget ≤ 0.5). */
  cpuRatio: number;
  throughputRatio: number;
  p99Ratio: number;
}

export async function benchRelay(): Promise<RelayResult[]> {
  const scenarios: Scenario[] = [
    // 200 msg/s per session (a busy page sends about 60); 200 sessions at 20 msg/s each (4,000 msg/s in all).
    { scenario: "1 visitor → 1 agent", sessions: 1, agents: 1, messages: 15_000, paced: { messages: 400, intervalMs: 5 } },
    { scenario: "1 visitor → 5 agents", sessions: 1, agents: 5, messages: 6_000, paced: { messages: 400, intervalMs: 5 } },
    { scenario: "1 visitor → 20 agents", sessions: 1, agents: 20, messages: 2_000, paced: { messages: 400, intervalMs: 5 } },
    { scenario: "200 sessions × 1 agent", sessions: 200, agents: 1, messages: 100, paced: { messages: 40, intervalMs: 50 } },
  ];
  const servers = {
    glimpse: await startChild("bench/glimpse-server.ts"),
    socketio: await startChild("bench/socketio-server.ts"),
    ws: await startChild("bench/plain-ws-server.ts"),
  };
  const clients: Clients = { senders: await startChild("bench/relay-clients.ts"), receivers: await startChild("bench/relay-clients.ts") };
  const login = await fetch(`http://127.0.0.1:${servers.glimpse.port}/api/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "agent", password: "bench password" }),
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const results: RelayResult[] = [];
  try {
    // A server that has run for a while has its hot paths compiled; the first rounds of a fresh
    // process measure the JIT instead (here the first 1→1 round cost ~1.7× the third). One
    // unmeasured round per stack and compression setting first.
    for (const compression of [false, true]) {
      for (const stack of ["glimpse", "socketio", "ws"] as const) await runOnce(clients, servers[stack], stack, cookie, { ...scenarios[0]!, messages: 5_000 }, compression);
    }
    for (const compression of [false, true]) {
      for (const sc of scenarios) {
        // Three rounds, rotating which stack goes first; medians of each figure.
        const order: Stack[] = ["glimpse", "socketio", "ws"];
        const rounds: Record<Stack, Figures[]> = { glimpse: [], socketio: [], ws: [] };
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < order.length; j++) {
            const stack = order[(i + j) % order.length]!;
            rounds[stack].push(await runOnce(clients, servers[stack], stack, cookie, sc, compression));
          }
        }
        const mid = (stack: Stack): Figures => {
          const of = (key: keyof Figures) => median(rounds[stack].map((r) => r[key]));
          return { perSecond: round(of("perSecond"), 0), mbPerSecond: round(of("mbPerSecond"), 2), cpuMsPerThousand: round(of("cpuMsPerThousand"), 1), p50: round(of("p50"), 2), p99: round(of("p99"), 2) };
        };
        const g = mid("glimpse");
        const s = mid("socketio");
        const w = mid("ws");
        results.push({ scenario: sc.scenario, compression, glimpse: g, socketio: s, ws: w, cpuRatio: round(g.cpuMsPerThousand / s.cpuMsPerThousand, 2), throughputRatio: round(g.perSecond / s.perSecond, 2), p99Ratio: round(g.p99 / s.p99, 2) });
        console.log(`  relay ${sc.scenario}${compression ? ", compressed" : ""}: CPU/1k glimpse ${g.cpuMsPerThousand} · socket.io ${s.cpuMsPerThousand} · ws ${w.cpuMsPerThousand} ms; msg/s ${g.perSecond} · ${s.perSecond} · ${w.perSecond}; p99 ${g.p99} · ${s.p99} · ${w.p99} ms`);
      }
    }
  } finally {
    for (const child of [...Object.values(servers), clients.senders, clients.receivers]) await child.stop();
  }
  return results;
}
