/**
 * What an operator and a load balancer rely on: health and readiness that reflect the database and
 * a drain, and Prometheus metrics that count without revealing anything of a session.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { agent, Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";
const TOKEN = "scrape-me-please";

async function boot(config: Parameters<typeof startServer>[0] = {}) {
  server = await startServer(config);
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

const get = async (path: string, headers: Record<string, string> = {}) => {
  const response = await fetch(`${server.url}${path}`, { headers });
  return { status: response.status, text: await response.text() };
};
const json = async (path: string) => {
  const { status, text } = await get(path);
  return { status, body: JSON.parse(text) as Record<string, unknown> };
};

/** One sample's value from the Prometheus text (`name{labels} value`), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("health and readiness", () => {
  it("both say ok while the database answers; both say 503 when it does not, readiness with NOT_READY", async () => {
    await boot();
    expect(await json("/healthz")).toEqual({ status: 200, body: { ok: true, sessions: 0, checks: { database: "ok" } } });
    expect(await json("/readyz")).toEqual({ status: 200, body: { ready: true, checks: { database: "ok" } } });

    server.store.close(); // the database is gone from under the process
    expect(await json("/healthz")).toMatchObject({ status: 503, body: { ok: false, checks: { database: "unreachable" } } });
    const ready = await json("/readyz");
    expect(ready).toMatchObject({ status: 503, body: { ready: false, code: "NOT_READY", checks: { database: "unreachable" } } });
    expect(ready.body.message).toContain("database");
  });

  it("a draining node is not ready and refuses new sockets, while the sessions it has carry on", async () => {
    await boot();
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "join", key });
    await a.next("joined");

    server.app.drain();
    const ready = await json("/readyz");
    expect(ready).toMatchObject({ status: 503, body: { ready: false, code: "NOT_READY", checks: { database: "ok", draining: true } } });
    expect((await json("/healthz")).status).toBe(200); // alive, only not taking newcomers
    await expect(Client.open(`${server.wsUrl}/ws/visitor`)).rejects.toThrow(/503/);

    v.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: Date.now(), data: { text: "still relayed" } }] });
    expect(JSON.stringify(await a.next("frames"))).toContain("still relayed");
  });
});

describe("Prometheus metrics", () => {
  it("are off (404) unless GLIMPSE_METRICS_TOKEN is set", async () => {
    await boot();
    expect((await get("/metrics")).status).toBe(404);
  });

  it("want the token: none or a wrong one gets 401 NOT_AUTHORIZED", async () => {
    await boot({ metricsToken: TOKEN });
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }, { authorization: TOKEN }];
    for (const headers of attempts) {
      const { status, text } = await get("/metrics", headers);
      expect(status).toBe(401);
      expect(JSON.parse(text)).toMatchObject({ code: "NOT_AUTHORIZED" });
    }
  });

  it("count sessions, viewers, presence, connections, relayed messages and bytes, and errors by code — and name no key", async () => {
    await boot({ metricsToken: TOKEN });
    const scrape = async () => {
      const { status, text } = await get("/metrics", { authorization: `Bearer ${TOKEN}` });
      expect(status).toBe(200);
      return text;
    };
    const before = await scrape();
    expect(sample(before, 'glimpse_sessions{key_type="random"}')).toBe(0);
    expect(sample(before, "glimpse_relayed_messages_total")).toBe(0);
    expect(before).toContain("glimpse_process_cpu_seconds_total"); // the process's own figures too

    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "join", key: "000000" }); // a wrong key: counted as an error
    await a.next("error");
    a.send({ t: "join", key });
    await a.next("joined");
    const frames = JSON.stringify({ t: "frames", seq: 1, events: [{ type: 3, timestamp: Date.now(), data: { text: "hello" } }] });
    for (let i = 0; i < 3; i++) v.send(frames);
    for (let i = 0; i < 3; i++) await a.next("frames");
    const presence = track(await Client.open(`${server.wsUrl}/ws/visitor?role=presence`));
    presence.send({ t: "hello", v: 1, groupId: "demo", client: "test", visitorId: "cust-1", role: "presence" });
    await expect.poll(async () => sample(await scrape(), "glimpse_presence_visitors")).toBe(1);
    expect((await get("/api/visitors/cust-1")).status).toBe(401); // an HTTP error, counted too

    const after = await scrape();
    expect(sample(after, 'glimpse_sessions{key_type="random"}')).toBe(1);
    expect(sample(after, "glimpse_session_agents")).toBe(1);
    expect(sample(after, 'glimpse_connections{endpoint="visitor"}')).toBe(2);
    expect(sample(after, 'glimpse_connections{endpoint="agent"}')).toBe(1);
    expect(sample(after, "glimpse_relayed_messages_total")).toBe(3);
    expect(sample(after, "glimpse_relayed_bytes_total")).toBe(3 * Buffer.byteLength(frames));
    expect(sample(after, "glimpse_delivered_messages_total")).toBe(3);
    expect(sample(after, 'glimpse_errors_total{code="KEY_NOT_FOUND"}')).toBe(1);
    expect(sample(after, 'glimpse_errors_total{code="NOT_AUTHORIZED"}')).toBe(1);
    expect(after).not.toContain(key);
    expect(after).not.toContain("cust-1");
  });
});

describe("SIGTERM on the real process (server/main.ts)", () => {
  it("drains for GLIMPSE_DRAIN_MS (not ready, sockets still open), then closes every socket with 1012 and exits 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glimpse-main-"));
    const port = await freePort();
    const child = spawn(process.execPath, ["--import", "tsx", "server/main.ts"], {
      env: { ...process.env, GLIMPSE_PORT: String(port), GLIMPSE_DB: join(dir, "glimpse.db"), GLIMPSE_DRAIN_MS: "3000" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await expect.poll(async () => (await fetch(`${base}/readyz`).catch(() => null))?.status, { timeout: 30_000 }).toBe(200);
      const socket = await Client.open(`ws://127.0.0.1:${port}/ws/visitor`); // open until its hello is due (10 s)
      child.kill("SIGTERM");
      await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 5_000 }).toBe(503);
      expect(socket.socket.readyState).toBe(socket.socket.OPEN); // draining: the open one stays
      expect(await socket.closed).toMatchObject({ code: 1012 });
      expect(await exited).toBe(0);
    } finally {
      child.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
