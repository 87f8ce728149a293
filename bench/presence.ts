/**
 * Presence scale: N idle presence connections on one server process, the server's heap and RSS
 * per connection, and how long all of them take to be back after a server restart (clients
 * reconnect with the extension's policy: 1 s base with jitter). Clients offer permessage-deflate
 * and compress every message, as browsers do; the extension's presence URL (`?role=presence`)
 * asks the server not to take the offer, and the same count is measured once more without that
 * (what compression would cost) and on a bare `ws` server configured like Glimpse's.
 */
import WebSocket from "ws";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backoffDelay } from "../src/reconnect";
import { startRedis } from "../test/helpers/cluster";
import { round, sleep, startChild } from "./lib";

interface Memory {
  heapUsed: number;
  rss: number;
}

/** As a browser offers it: permessage-deflate, and every message compressed (no size threshold). */
const BROWSER_DEFLATE = { threshold: 0 };
const ORIGIN = { Origin: "chrome-extension://glimpsebenchglimpsebenchglimpsebe" };

/** A presence client as the extension is one: hello, its page once welcomed, pong to every ping. */
function openPresence(url: string, i: number, onWelcome: () => void): WebSocket {
  const socket = new WebSocket(url, { perMessageDeflate: BROWSER_DEFLATE, headers: ORIGIN });
  socket.on("open", () => socket.send(JSON.stringify({ t: "hello", v: 1, groupId: "bench", client: "bench", visitorId: `visitor-${i}`, role: "presence" })));
  socket.on("message", (data) => {
    const text = data.toString();
    if (text.startsWith('{"t":"welcome"')) {
      onWelcome();
      socket.send(JSON.stringify({ t: "presence", url: `https://shop.test/page/${i}`, title: "Product page", visible: true }));
    } else if (text === '{"t":"ping"}') socket.send('{"t":"pong"}');
  });
  return socket;
}

/** Heap and RSS per idle connection: `count` sockets say hello (and their page) and stay. */
async function memoryPerConnection(script: string, path: string, count: number, env: Record<string, string> = {}) {
  const server = await startChild(script, env, ["--expose-gc"]);
  const before = await server.ask<Memory>({ memory: true });
  const sockets: WebSocket[] = [];
  let welcomed = 0;
  let compressed = 0;
  for (let i = 0; i < count; i++) {
    const socket = openPresence(`ws://127.0.0.1:${server.port}${path}`, i, () => welcomed++);
    socket.on("open", () => {
      if (socket.extensions.includes("permessage-deflate")) compressed++;
    });
    sockets.push(socket);
    if (i % 200 === 199) await sleep(20);
  }
  const t0 = performance.now();
  while (welcomed < count && performance.now() - t0 < 60_000) await sleep(50);
  await sleep(1000);
  const after = await server.ask<Memory>({ memory: true });
  for (const socket of sockets) socket.terminate();
  await server.stop();
  return { compressed, heapPerConnectionBytes: Math.round((after.heapUsed - before.heapUsed) / welcomed), rssPerConnectionBytes: Math.round((after.rss - before.rss) / welcomed) };
}

export async function benchPresence(count = Number(process.env.BENCH_PRESENCE ?? 10_000)) {
  const plain = await memoryPerConnection("bench/plain-ws-server.ts", "", count);
  const compressing = await memoryPerConnection("bench/glimpse-server.ts", "/ws/visitor", count);
  // One of several nodes: every visitor is also recorded in Redis (server/cluster.ts).
  const redis = await startRedis();
  const withRedis = await memoryPerConnection("bench/glimpse-server.ts", "/ws/visitor?role=presence", count, { GLIMPSE_REDIS_URL: redis.url }).finally(() => redis.kill());
  const dbDir = mkdtempSync(join(tmpdir(), "glimpse-presence-"));
  let server = await startChild("bench/glimpse-server.ts", { BENCH_DB_DIR: dbDir }, ["--expose-gc"]);
  const port = server.port;
  const before = await server.ask<Memory>({ memory: true });
  let online = 0;
  let restarting = false;
  const sockets: WebSocket[] = [];

  const connect = (i: number, attempt = 0) => {
    const socket = openPresence(`ws://127.0.0.1:${port}/ws/visitor?role=presence`, i, () => online++);
    sockets[i] = socket;
    let counted = false;
    socket.on("message", () => (counted = true));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      if (counted) online--;
      if (!restarting && !counted) return;
      const delay = backoffDelay(attempt, Math.random) ?? 30_000;
      setTimeout(() => connect(i, attempt + 1), delay);
    });
  };

  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    connect(i);
    if (i % 200 === 199) await sleep(20);
  }
  while (online < count && performance.now() - t0 < 120_000) await sleep(50);
  const connectSeconds = (performance.now() - t0) / 1000;
  const reached = online;
  await sleep(1000);
  const after = await server.ask<Memory>({ memory: true });

  // Restart the server on the same port; every client reconnects by itself.
  restarting = true;
  await server.stop();
  const restartAt = performance.now();
  server = await startChild("bench/glimpse-server.ts", { BENCH_DB_DIR: dbDir, BENCH_PORT: String(port) }, ["--expose-gc"]);
  while (online < reached && performance.now() - restartAt < 120_000) await sleep(50);
  const reconnectSeconds = (performance.now() - restartAt) / 1000;
  const back = online;
  restarting = false;
  for (const socket of sockets) socket.removeAllListeners("close");
  for (const socket of sockets) socket.terminate();
  await server.stop();
  return {
    connections: reached,
    connectSeconds: round(connectSeconds, 1),
    heapPerConnectionBytes: Math.round((after.heapUsed - before.heapUsed) / reached),
    rssPerConnectionBytes: Math.round((after.rss - before.rss) / reached),
    plainWs: plain,
    /** The same on /ws/visitor without `?role=presence`: compression negotiated. */
    withCompression: compressing,
    /** As the extension connects, on a node with GLIMPSE_REDIS_URL set. */
    withRedis,
    reconnectedAfterRestart: back,
    reconnectSeconds: round(reconnectSeconds, 1),
  };
}
