/**
 * Webhooks to a real HTTP endpoint: session and request events, signed per Standard Webhooks,
 * retried with growing delays, kept across a restart, given up after the configured attempts,
 * and delivered once when two servers share the outbox.
 */
import { createHmac } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../../server/app";
import { Store } from "../../server/store";
import { newWebhookSecret } from "../../server/webhooks";
import { freePort } from "../helpers/cluster";
import { agent, Client, sharingVisitor, startServer, TEST_EXTENSION_ORIGIN, type TestServer } from "../helpers/server";

const PW = "correct horse battery";
const FAST = { webhookRetryMs: 50, webhookPollMs: 50, webhookTimeoutMs: 2_000 };

interface Delivery {
  headers: Record<string, string>;
  body: string;
  at: number;
}

/** A CRM's webhook endpoint: answers `status(n)` to the n-th request (1-based), a 3xx with `location`. */
async function endpoint(status: (n: number) => number = () => 204, port = 0, location = "") {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      deliveries.push({ headers: request.headers as Record<string, string>, body, at: Date.now() });
      response.statusCode = status(deliveries.length);
      if (location) response.setHeader("location", location);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${address.port}/glimpse-events`, deliveries, events: () => deliveries.map((d) => JSON.parse(d.body) as Event) };
}

interface Event {
  id: string;
  type: string;
  groupId: string;
  createdAt: number;
  data: Record<string, unknown>;
}

/** The check README documents: HMAC-SHA256 over "id.timestamp.body" with the base64 part of the secret. */
function signatureValid(secret: string, delivery: Delivery): boolean {
  const { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature } = delivery.headers;
  const expected = createHmac("sha256", Buffer.from(secret.slice("whsec_".length), "base64")).update(`${id}.${timestamp}.${delivery.body}`).digest("base64");
  return (signature ?? "").split(" ").includes(`v1,${expected}`);
}

const closers: (() => unknown)[] = [];
const clients: Client[] = [];
const track = (client: Client) => (clients.push(client), client);
let server: TestServer | undefined;

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = undefined;
  for (const close of closers.splice(0)) await close();
});

async function withWebhook(config: Partial<Parameters<typeof startServer>[0]> = {}, status?: (n: number) => number, location = "") {
  const crm = await endpoint(status, 0, location);
  server = await startServer({ ...FAST, ...config });
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
  const secret = newWebhookSecret();
  server.store.setWebhook("demo", crm.url, secret);
  return { s: server, crm, secret };
}

describe("webhooks", () => {
  it("sends session.started and session.ended for a manual session, signed, with metadata and no page content", async () => {
    const { s, crm, secret } = await withWebhook();
    const { client: v, key } = await sharingVisitor(s);
    track(v);
    const a = track(await agent(s, "alice", PW));
    a.send({ t: "join", key });
    await a.next("joined");
    v.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: Date.now(), data: { text: "card number 4111" } }] });
    await a.next("frames");
    a.send({ t: "endSession" });
    await a.next("sessionEnded");
    await expect.poll(() => crm.deliveries.length, { interval: 50, timeout: 15_000 }).toBe(2);
    const [started, ended] = crm.events();
    expect(started).toMatchObject({ type: "session.started", groupId: "demo", data: { keyType: "random", sessionKey: key, visitorId: null, agent: null } });
    expect(ended).toMatchObject({ type: "session.ended", groupId: "demo", data: { sessionKey: key, reason: "agent_ended", agents: ["alice"] } });
    expect(ended!.data.sessionId).toBe(started!.data.sessionId);
    expect(String(ended!.data.sessionId)).toBe(String(s.store.auditRows("demo")[0]!.id)); // the audit row's id
    for (const delivery of crm.deliveries) {
      expect(delivery.headers["content-type"]).toBe("application/json");
      expect(delivery.headers["webhook-id"]).toBe(JSON.parse(delivery.body).id);
      expect(signatureValid(secret, delivery)).toBe(true);
      expect(signatureValid(newWebhookSecret(), delivery)).toBe(false);
      // The Standard Webhooks library a CRM would use accepts it too.
      expect(new Webhook(secret).verify(delivery.body, delivery.headers)).toMatchObject({ id: delivery.headers["webhook-id"] });
      expect(delivery.body).not.toContain("4111");
    }
  });

  it("sends request.answered for a declined and an accepted one-click request, and session.started with the visitor and agent", async () => {
    const { s, crm } = await withWebhook();
    const presence = track(await Client.open(`${s.wsUrl}/ws/visitor?role=presence`, { Origin: TEST_EXTENSION_ORIGIN }));
    presence.send({ t: "hello", v: 1, groupId: "demo", client: "test", visitorId: "cust-42", role: "presence" });
    await presence.next("welcome");
    const a = track(await agent(s, "alice", PW));
    a.send({ t: "watchVisitor", visitorId: "cust-42" });
    await a.next("visitorPresence");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const first = await presence.next<{ t: string; id: string }>("shareRequest");
    presence.send({ t: "requestAnswer", id: first.id, status: "declined" });
    await a.next("shareRequest", (m) => m.state === "declined");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const second = await presence.next<{ t: string; id: string }>("shareRequest", (m) => m.id !== first.id);
    presence.send({ t: "requestAnswer", id: second.id, status: "accepted" });
    const { ticket } = await presence.next<{ t: string; ticket: string }>("requestAccepted");
    const session = track(await Client.open(`${s.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }));
    session.send({ t: "hello", v: 1, groupId: "demo", client: "test", role: "session", visitorId: "cust-42", ticket });
    await session.next("welcome");
    session.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    await a.next("joined");
    await expect.poll(() => crm.events().map((e) => e.type), { interval: 50, timeout: 15_000 }).toEqual(["request.answered", "request.answered", "session.started"]);
    const [declined, accepted, started] = crm.events();
    expect(declined!.data).toMatchObject({ requestId: first.id, visitorId: "cust-42", agent: "alice", answer: "declined" });
    expect(accepted!.data).toMatchObject({ requestId: second.id, visitorId: "cust-42", agent: "alice", answer: "accepted" });
    expect(started!.data).toMatchObject({ keyType: "visitor", sessionKey: "cust-42", visitorId: "cust-42", agent: "alice", site: "https://shop.test" });
  });

  it("retries an endpoint that fails, with growing delays and the same message id, until it answers 2xx", async () => {
    const { s, crm } = await withWebhook({}, (n) => (n <= 3 ? 503 : 200));
    const { client: v } = await sharingVisitor(s);
    track(v);
    await expect.poll(() => crm.deliveries.length, { interval: 50, timeout: 15_000 }).toBe(4);
    expect(new Set(crm.deliveries.map((d) => d.headers["webhook-id"])).size).toBe(1);
    // Scheduled 50, 200 and 800 ms after each failure (never sooner).
    const gaps = crm.deliveries.slice(1).map((d, i) => d.at - crm.deliveries[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(195);
    expect(gaps[2]).toBeGreaterThanOrEqual(795);
    await expect.poll(() => s.store.webhookRows("demo").length, { interval: 50 }).toBe(0); // delivered: out of the outbox
  });

  it("gives up after the configured attempts, keeps the failure for inspection, and the server keeps serving", async () => {
    const { s, crm } = await withWebhook({ webhookAttempts: 3 }, () => 500);
    const { client: v, key } = await sharingVisitor(s);
    track(v);
    await expect.poll(() => s.store.webhookRows("demo")[0]?.gaveUp, { interval: 50, timeout: 15_000 }).toBe(true);
    expect(s.store.webhookRows("demo")[0]).toMatchObject({ attempts: 3, lastError: "HTTP 500" });
    expect(crm.deliveries).toHaveLength(3);
    const a = track(await agent(s, "alice", PW));
    a.send({ t: "join", key });
    expect(await a.next("joined")).toMatchObject({ sessionKey: key });
  });

  it("does not follow a redirect: a 3xx answer is a failed attempt, and the other address gets nothing", async () => {
    const elsewhere = await endpoint(() => 200);
    const { s, crm } = await withWebhook({ webhookAttempts: 2 }, () => 302, elsewhere.url);
    track((await sharingVisitor(s)).client);
    await expect.poll(() => s.store.webhookRows("demo")[0]?.gaveUp, { interval: 50, timeout: 15_000 }).toBe(true);
    expect(s.store.webhookRows("demo")[0]).toMatchObject({ attempts: 2, lastError: "HTTP 302" });
    expect(crm.deliveries).toHaveLength(2);
    expect(elsewhere.deliveries).toHaveLength(0);
  });

  it("keeps an event the endpoint could not take across a restart, and delivers it after", async () => {
    const port = await freePort(); // nothing listens yet: connection refused
    server = await startServer({ ...FAST, webhookRetryMs: 300 });
    const s = server;
    s.addGroup("demo");
    const secret = newWebhookSecret();
    s.store.setWebhook("demo", `http://127.0.0.1:${port}/glimpse-events`, secret);
    const { client: v } = await sharingVisitor(s);
    track(v);
    await expect.poll(() => s.store.webhookRows("demo")[0]?.attempts, { interval: 50, timeout: 15_000 }).toBe(1);
    expect(s.store.webhookRows("demo")[0]!.lastError).toMatch(/ECONNREFUSED/);
    await s.restart();
    const crm = await endpoint(() => 200, port);
    await expect.poll(() => crm.deliveries.length, { interval: 50, timeout: 15_000 }).toBeGreaterThanOrEqual(1);
    expect(crm.events()[0]).toMatchObject({ type: "session.started" });
    expect(signatureValid(secret, crm.deliveries[0]!)).toBe(true);
  });

  it("delivers each event once when two servers share the outbox (several nodes)", async () => {
    const crm = await endpoint(() => 200);
    const dir = mkdtempSync(join(tmpdir(), "glimpse-webhooks-"));
    closers.push(() => rmSync(dir, { recursive: true, force: true }));
    const stores = [new Store(join(dir, "glimpse.db")), new Store(join(dir, "glimpse.db"))];
    stores[0]!.createGroup({ id: "demo", name: "Demo", keyLength: 6, secret: "s", requireVerified: false });
    stores[0]!.setWebhook("demo", crm.url, newWebhookSecret());
    const apps = await Promise.all(stores.map((store) => buildApp({ store, config: { ...FAST, webhookPollMs: 10 } })));
    closers.unshift(async () => {
      for (const app of apps) await app.close();
      for (const store of stores) store.close();
    });
    const ids = Array.from({ length: 40 }, (_, i) => `msg_test_${i}`);
    for (const id of ids) stores[1]!.enqueueWebhook({ id, groupId: "demo", body: JSON.stringify({ id, type: "test" }), createdAt: Date.now() });
    await expect.poll(() => crm.deliveries.length, { interval: 50, timeout: 15_000 }).toBe(40);
    await new Promise((resolve) => setTimeout(resolve, 300)); // a second delivery would come within a few polls
    expect(crm.deliveries.map((d) => d.headers["webhook-id"]).sort()).toEqual([...ids].sort());
  });

});
