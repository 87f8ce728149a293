/**
 * Relay fan-out: 1 visitor → 1, 5, 20 agents, and 200 concurrent sessions, through the Glimpse
 * server, a socket.io room relay (OpenReplay Assist's stack) and a bare `ws` room broadcast of the
 * same bytes (the practical limit), in the same run, with the same payloads. The clients run in
 * two child processes (bench/relay-clients.ts: senders, receivers), outside every server's
 * process; every agent decodes every message on every stack. Each scenario runs with compression
 * off and offered (permessage-deflate, as browsers offer it; all three servers configured alike).
 * The primary figure is the server's CPU time per 1,000 delivered messages (from /proc), plus
 * throughput at saturation and latency under a steady load below it. Then 1 → 1 and 1 → 5 with
 * the agents on a second node, against one node (benchTwoNodes).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRedis } from "../test/helpers/cluster";
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

/** Where the visitors and the agents connect, and the processes whose CPU time is the server's. */
interface Target {
  visitorPort: number;
  agentPort: number;
  pids: number[];
}
const oneProcess = (server: ChildServer): Target => ({ visitorPort: server.port, agentPort: server.port, pids: [server.pid] });
const cpuOf = (target: Target) => target.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);

async function runOnce(clients: Clients, target: Target, stack: Stack, cookie: string, sc: Scenario, compress: boolean): Promise<Figures> {
  const { senders, receivers } = clients;
  const { rooms } = await ask<{ rooms: string[] }>(senders, { cmd: "visitors", stack, port: target.visitorPort, sessions: sc.sessions, compress });
  await ask(receivers, { cmd: "agents", stack, port: target.agentPort, cookie, rooms, perRoom: sc.agents, compress });
  await ask(receivers, { cmd: "reset" });
  const expected = sc.messages * sc.sessions * sc.agents;
  const delivered = async () => (await ask<{ delivered: number; latencies: number[] }>(receivers, { cmd: "count" })).delivered;

  const cpuBefore = cpuOf(target);
  const start = performance.now();
  await ask(senders, { cmd: "saturate", messages: sc.messages });
  const deadline = Date.now() + 120_000;
  let got = await delivered();
  while (got < expected && Date.now() < deadline) {
    await sleep(5);
    got = await delivered();
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = cpuOf(target) - cpuBefore;

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

/** The median of each figure over rounds. */
function medians(rounds: Figures[]): Figures {
  const of = (key: keyof Figures) => median(rounds.map((r) => r[key]));
  return { perSecond: round(of("perSecond"), 0), mbPerSecond: round(of("mbPerSecond"), 2), cpuMsPerThousand: round(of("cpuMsPerThousand"), 1), p50: round(of("p50"), 2), p99: round(of("p99"), 2) };
}

export interface TwoNodeResult {
  scenario: string;
  compression: boolean;
  /** One Glimpse process, no Redis (the same as the relay rows). */
  oneNode: Figures;
  /** Visitors on node A, agents on node B, through Redis; CPU is both nodes' and Redis's. */
  twoNodes: Figures;
  cpuRatio: number;
  throughputRatio: number;
  p99Ratio: number;
}

/**
 * Several nodes (#13): the agents' sockets on another node than the visitor's, so every message
 * crosses Redis pub/sub (server/tunnel.ts), against one node in the same run, rounds alternating.
 */
async function benchTwoNodes(clients: Clients, single: ChildServer, cookie: string, scenarios: Scenario[]): Promise<TwoNodeResult[]> {
  const redis = await startRedis();
  const dir = mkdtempSync(join(tmpdir(), "glimpse-bench-nodes-"));
  const nodes: ChildServer[] = [];
  try {
    for (const id of ["a", "b"]) nodes.push(await startChild("bench/glimpse-server.ts", { BENCH_DB_DIR: dir, GLIMPSE_REDIS_URL: redis.url, GLIMPSE_NODE_ID: id }));
    const login = await fetch(`http://127.0.0.1:${nodes[0]!.port}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "agent", password: "bench password" }) });
    const nodesCookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const two: Target = { visitorPort: nodes[0]!.port, agentPort: nodes[1]!.port, pids: [nodes[0]!.pid, nodes[1]!.pid, redis.pid] };
    const results: TwoNodeResult[] = [];
    for (const compression of [false, true]) {
      await runOnce(clients, two, "glimpse", nodesCookie, { ...scenarios[0]!, messages: 5_000 }, compression); // warm-up, unmeasured
      for (const sc of scenarios) {
        const one: Figures[] = [];
        const both: Figures[] = [];
        for (let i = 0; i < 3; i++) {
          const pair = [() => runOnce(clients, oneProcess(single), "glimpse", cookie, sc, compression).then((f) => one.push(f)), () => runOnce(clients, two, "glimpse", nodesCookie, sc, compression).then((f) => both.push(f))];
          for (const run of i % 2 === 0 ? pair : pair.reverse()) await run();
        }
        const o = medians(one);
        const t = medians(both);
        results.push({ scenario: sc.scenario, compression, oneNode: o, twoNodes: t, cpuRatio: round(t.cpuMsPerThousand / o.cpuMsPerThousand, 2), throughputRatio: round(t.perSecond / o.perSecond, 2), p99Ratio: round(t.p99 / o.p99, 2) });
        console.log(`  relay ${sc.scenario}, agents on another node${compression ? ", compressed" : ""}: CPU/1k ${t.cpuMsPerThousand} (one node ${o.cpuMsPerThousand}) ms; msg/s ${t.perSecond} (${o.perSecond}); p99 ${t.p99} (${o.p99}) ms`);
      }
    }
    return results;
  } finally {
    for (const node of nodes) await node.stop();
    await redis.kill();
  }
}

export async function benchRelay(): Promise<{ relay: RelayResult[]; twoNodes: TwoNodeResult[] }> {
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
  let twoNodes: TwoNodeResult[] = [];
  try {
    // A server that has run for a while has its hot paths compiled; the first rounds of a fresh
    // process measure the JIT instead (here the first 1→1 round cost ~1.7× the third). One
    // unmeasured round per stack and compression setting first.
    for (const compression of [false, true]) {
      for (const stack of ["glimpse", "socketio", "ws"] as const) await runOnce(clients, oneProcess(servers[stack]), stack, cookie, { ...scenarios[0]!, messages: 5_000 }, compression);
    }
    for (const compression of [false, true]) {
      for (const sc of scenarios) {
        // Three rounds, rotating which stack goes first; medians of each figure.
        const order: Stack[] = ["glimpse", "socketio", "ws"];
        const rounds: Record<Stack, Figures[]> = { glimpse: [], socketio: [], ws: [] };
        for (let i = 0; i < 3; i++) {
          for (let j = 0; j < order.length; j++) {
            const stack = order[(i + j) % order.length]!;
            rounds[stack].push(await runOnce(clients, oneProcess(servers[stack]), stack, cookie, sc, compression));
          }
        }
        const g = medians(rounds.glimpse);
        const s = medians(rounds.socketio);
        const w = medians(rounds.ws);
        results.push({ scenario: sc.scenario, compression, glimpse: g, socketio: s, ws: w, cpuRatio: round(g.cpuMsPerThousand / s.cpuMsPerThousand, 2), throughputRatio: round(g.perSecond / s.perSecond, 2), p99Ratio: round(g.p99 / s.p99, 2) });
        console.log(`  relay ${sc.scenario}${compression ? ", compressed" : ""}: CPU/1k glimpse ${g.cpuMsPerThousand} · socket.io ${s.cpuMsPerThousand} · ws ${w.cpuMsPerThousand} ms; msg/s ${g.perSecond} · ${s.perSecond} · ${w.perSecond}; p99 ${g.p99} · ${s.p99} · ${w.p99} ms`);
      }
    }
    twoNodes = await benchTwoNodes(clients, servers.glimpse, cookie, scenarios.slice(0, 2));
  } finally {
    for (const child of [...Object.values(servers), clients.senders, clients.receivers]) await child.stop();
  }
  return { relay: results, twoNodes };
}
