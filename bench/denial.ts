/**
 * Cheap rejection under attack (SECURITY.md "Cheap rejection"): the real server in its own process,
 * with production limits; this process polls /healthz every 10 ms while four sockets each send a
 * permessage-deflate-compressed 4 MB bracket bomb (a few KB on the wire) before hello. Reports the
 * /healthz latency when quiet and under attack (median, p95, worst) and the server's RSS after.
 */
import { deflateRawSync } from "node:zlib";
import WebSocket from "ws";
import { percentile, round, sleep, startChild } from "./lib";

export interface DenialResult {
  bombs: number;
  bombWireBytes: number;
  closeCodes: number[];
  quiet: { samples: number; p50: number; p95: number; max: number };
  attacked: { samples: number; p50: number; p95: number; max: number };
  serverRssAfterMb: number;
}

async function poll(url: string, until: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!until()) {
    const started = performance.now();
    await fetch(`${url}/healthz`).then((response) => response.arrayBuffer());
    latencies.push(performance.now() - started);
    await sleep(10);
  }
  return latencies;
}

const summary = (values: number[]) => ({
  samples: values.length,
  p50: round(percentile(values, 50)),
  p95: round(percentile(values, 95)),
  max: round(Math.max(...values)),
});

export async function benchDenial(bombs = 4): Promise<DenialResult> {
  const server = await startChild("bench/glimpse-server.ts", { BENCH_PRODUCTION_LIMITS: "1" });
  const url = `http://127.0.0.1:${server.port}`;
  try {
    let quietOver = false;
    const quietPoll = poll(url, () => quietOver);
    await sleep(2_000);
    quietOver = true;
    const quiet = await quietPoll;

    const bomb = "[".repeat(2 * 1024 * 1024) + "]".repeat(2 * 1024 * 1024);
    const sockets = await Promise.all(
      Array.from({ length: bombs }, () => {
        const socket = new WebSocket(`${url.replace("http", "ws")}/ws/visitor`, { headers: { Origin: "chrome-extension://bench" } });
        return new Promise<WebSocket>((resolve) => socket.once("open", () => resolve(socket)));
      }),
    );
    let attackOver = false;
    const attackedPoll = poll(url, () => attackOver);
    const closed = sockets.map((socket) => new Promise<number>((resolve) => socket.once("close", (code) => resolve(code))));
    for (const socket of sockets) socket.send(bomb);
    const closeCodes = await Promise.all(closed);
    await sleep(1_000);
    attackOver = true;
    const attacked = await attackedPoll;
    const { rss } = await server.ask<{ rss: number }>({ memory: true });
    return {
      bombs,
      bombWireBytes: deflateRawSync(bomb).length,
      closeCodes,
      quiet: summary(quiet),
      attacked: summary(attacked),
      serverRssAfterMb: round(rss / 1024 / 1024),
    };
  } finally {
    await server.stop();
  }
}
