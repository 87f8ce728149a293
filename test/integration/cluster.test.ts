/**
 * Several nodes on one Redis (real `redis-server`, nodes as their own processes): a visitor on one
 * node and an agent on another are in one session; a session follows its visitor to another node;
 * a lost node's sessions carry on through the others; Redis going away is a clear error, not a crash.
 */
import { Redis } from "ioredis";
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { ASSET_LIMITS } from "../../src/protocol";
import { startCluster, type TestCluster, type TestNode } from "../helpers/cluster";
import { usePostgres } from "../helpers/postgres";
import { signVisitorToken } from "../../server/identity";
import { Client, TEST_EXTENSION_ORIGIN } from "../helpers/server";

let cluster: TestCluster;
const clients: Client[] = [];
const track = (client: Client) => (clients.push(client), client);
const PW = "correct horse battery";

// The nodes keep their tables on PostgreSQL, as nodes on several hosts do (one fresh database per test).
const postgres = usePostgres();

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await cluster?.close();
});

/** `database` "sqlite": the nodes share one SQLite file instead (nodes on one host). */
async function boot(count = 2, env: Record<string, string> = {}, database: "postgres" | "sqlite" = "postgres") {
  cluster = await startCluster(count, env, database === "postgres" ? postgres() : undefined);
  await cluster.addAgent("demo", "alice", PW);
  await cluster.addAgent("demo", "bob", PW);
  await cluster.addAgent("demo", "carol", PW);
  return cluster.nodes;
}

const frame = (seq: number, text: string) => JSON.stringify({ t: "frames", seq, events: [{ type: 3, timestamp: Date.now(), data: { text } }] });
const textOf = (m: { [key: string]: unknown }) => (m.events as { data: { text: string } }[])[0]!.data.text;

async function signIn(node: TestNode, username: string): Promise<string> {
  const response = await fetch(`${node.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password: PW }) });
  if (!response.ok) throw new Error(`sign-in on ${node.name} failed: ${response.status}`);
  return response.headers.get("set-cookie")!.split(";")[0]!;
}

async function agentOn(node: TestNode, cookie: string): Promise<Client> {
  const a = track(await Client.open(`${node.wsUrl}/ws/agent`, { Cookie: cookie }));
  a.send({ t: "hello", v: 1 });
  await a.next("welcome");
  return a;
}

async function visitorOn(node: TestNode, resume?: { sessionKey: string; token: string }): Promise<Client> {
  const v = track(await Client.open(`${node.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }));
  v.send({ t: "hello", v: 1, groupId: "demo", client: "test", ...(resume ? { resume } : {}) });
  await v.next("welcome");
  return v;
}

async function sharingOn(node: TestNode) {
  const v = await visitorOn(node);
  v.send({ t: "startSession", keyType: "random", site: "http://shop.test" });
  const started = await v.next<{ t: string; sessionKey: string; resumeToken: string }>("sessionStarted");
  return { v, key: started.sessionKey, token: started.resumeToken };
}

/** A visitor sharing on `visitorNode`, and alice's console (her cookie, to come back with) in the session from `agentNode`. */
async function aliceWatches(visitorNode: TestNode, agentNode: TestNode) {
  const { v, key, token } = await sharingOn(visitorNode);
  const cookie = await signIn(agentNode, "alice");
  const alice = await agentOn(agentNode, cookie);
  alice.send({ t: "join", key });
  await alice.next("joined");
  return { v, key, token, cookie, alice };
}

/** Sends frames until one reaches the agent (a fresh tunnel or a resumed visitor may need a moment). */
async function framesArrive(v: Client, a: Client, text: string): Promise<void> {
  for (let seq = 1; seq <= 50; seq++) {
    v.send(frame(seq, text));
    try {
      const got = await a.next("frames", (m) => textOf(m) === text, 200);
      expect(textOf(got)).toBe(text);
      return;
    } catch {
      // not yet
    }
  }
  throw new Error(`"${text}" never reached the agent`);
}

describe("two nodes on one Redis", { timeout: 60_000 }, () => {
  it("a visitor on node a and an agent on node b share one session both ways, and the session ends for both", async () => {
    const [a, b] = await boot();
    const { v, key } = await sharingOn(a!);
    const alice = await agentOn(b!, await signIn(b!, "alice"));
    alice.send({ t: "join", key });
    expect(await alice.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: true });
    // The visitor hears of the agent, and is asked for a snapshot, as with one node.
    expect(await v.next("guests")).toMatchObject({ count: 1, agents: ["alice"] });
    await v.next("snapshotRequest");
    // Frames in order, byte for byte.
    for (let seq = 1; seq <= 20; seq++) v.send(frame(seq, `change ${seq}`));
    const texts: string[] = [];
    for (let i = 0; i < 20; i++) texts.push(textOf(await alice.next("frames")));
    expect(texts).toEqual(Array.from({ length: 20 }, (_, i) => `change ${i + 1}`));
    // Redis holds who is where, never what the page shows.
    const redis = new Redis(cluster.redis.url);
    const keys = await redis.keys("*");
    expect(keys.some((k) => k.startsWith("glimpse:session:"))).toBe(true);
    for (const key of keys) {
      const value = (await redis.type(key)) === "string" ? await redis.get(key) : "";
      expect(`${key} ${value}`).not.toMatch(/change \d/);
    }
    redis.disconnect();
    // The agent's tools reach the visitor on the other node.
    alice.send({ t: "pointer", target: { id: 7, fx: 0.5, fy: 0.25 } });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: { id: 7, fx: 0.5, fy: 0.25 } });
    // A malformed message is refused on the agent's own node, before anything is forwarded.
    alice.send({ t: "pointer", target: { id: "x" } });
    expect(await alice.next("error")).toMatchObject({ code: "BAD_MESSAGE" });

    // A second agent on node b: one message crosses Redis for both, and both see the same stream.
    const bob = await agentOn(b!, await signIn(b!, "bob"));
    bob.send({ t: "join", key });
    await bob.next("joined");
    expect(await v.next("guests", (m) => m.count === 2)).toMatchObject({ agents: expect.arrayContaining(["alice", "bob"]) });
    for (let seq = 21; seq <= 30; seq++) v.send(frame(seq, `for both ${seq}`));
    for (const agent of [alice, bob]) {
      const got: string[] = [];
      for (let i = 0; i < 10; i++) got.push(textOf(await agent.next("frames", (m) => textOf(m).startsWith("for both"))));
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `for both ${21 + i}`));
    }
    // And a third, on node a with the visitor, sees it too.
    const carol = await agentOn(a!, await signIn(a!, "carol"));
    carol.send({ t: "join", key });
    await carol.next("joined");
    await framesArrive(v, carol, "for all three");
    expect(textOf(await alice.next("frames", (m) => textOf(m) === "for all three"))).toBe("for all three");

    // The agent on node b ends it: everyone is told, and the key is gone on both nodes.
    alice.send({ t: "endSession" });
    expect(await v.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    expect(await bob.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    expect(await carol.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    expect(await alice.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    const late = await agentOn(b!, await signIn(b!, "bob"));
    late.send({ t: "join", key });
    expect(await late.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    // The owner node wrote the audit row to the shared PostgreSQL database, and let go of the live row.
    await expect.poll(async () => (await cluster.store.auditRows("demo"))[0], { interval: 100 }).toMatchObject({ sessionKey: key, endReason: "agent_ended" });
    expect((await cluster.store.auditRows("demo"))[0]!.agents.split(",").sort()).toEqual(["alice", "bob", "carol"]);
    expect(await cluster.store.liveSession("demo", "random", key)).toBeNull();
  });

  it("nodes on one host can share a SQLite file instead: visitor on a, agent on b, one session", async () => {
    const [a, b] = await boot(2, {}, "sqlite");
    const { v, key } = await sharingOn(a!);
    const alice = await agentOn(b!, await signIn(b!, "alice"));
    alice.send({ t: "join", key });
    expect(await alice.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: true });
    await framesArrive(v, alice, "through one SQLite file");
  });

  it("a sign-out on node a closes the same sign-in's console socket on node b at once (not at the next periodic check)", async () => {
    const [a, b] = await boot(2, { GLIMPSE_AGENT_RECHECK_MS: "600000" });
    const cookie = await signIn(a!, "alice");
    const onB = await agentOn(b!, cookie);
    const response = await fetch(`${a!.url}/api/logout`, { method: "POST", headers: { cookie, origin: a!.url } });
    expect(response.status).toBe(200);
    expect(await onB.next("error")).toMatchObject({ code: "NOT_AUTHORIZED" });
    expect((await onB.closed).code).toBe(4401);
  });

  it("an agent on node b gets the resources the visitor's extension carried to node a, byte for byte, and only while in the session", async () => {
    const [a, b] = await boot();
    const { v, key, cookie } = await aliceWatches(a!, b!);
    const body = Buffer.alloc(ASSET_LIMITS.pieceBytes + 5, 7);
    const hash = createHash("sha256").update(body).digest("hex");
    const url = "https://shop.test/logo.png";
    const assetUrl = `${b!.url}/api/sessions/${key}/assets?u=${encodeURIComponent(url)}`;
    // Asked before it has arrived: the owner waits for it, as one node does.
    const early = fetch(assetUrl, { headers: { cookie } });
    for (let index = 0; index < 2; index++) {
      const data = body.subarray(index * ASSET_LIMITS.pieceBytes, (index + 1) * ASSET_LIMITS.pieceBytes).toString("base64");
      v.send({ t: "asset", url, hash, mime: "image/png", size: body.length, index, count: 2, data });
    }
    const response = await early;
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
    // bob, signed in on node b but not in the session, gets nothing.
    const other = await fetch(assetUrl, { headers: { cookie: await signIn(b!, "bob") } });
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ code: "ASSET_NOT_FOUND" });
  });

  it("an invitation made in a session owned by node a brings a colleague in through node b, once", async () => {
    const [a, b] = await boot();
    const { v, key, alice } = await aliceWatches(a!, b!);
    alice.send({ t: "invite" });
    const { token } = await alice.next<{ t: string; token: string }>("invited");
    const bob = await agentOn(b!, await signIn(b!, "bob"));
    bob.send({ t: "joinInvite", token });
    expect(await bob.next("joined")).toMatchObject({ sessionKey: key });
    await framesArrive(v, bob, "bob is in");
    // Used up, on either node.
    for (const node of [a!, b!]) {
      const again = await agentOn(node, await signIn(node, "bob"));
      again.send({ t: "joinInvite", token });
      expect(await again.next("error")).toMatchObject({ code: "INVITE_INVALID" });
    }
  });

  it("counts failed joins on every node together: guesses spread over the nodes are blocked as on one", async () => {
    const [a, b] = await boot();
    const consoles = { a: await agentOn(a!, await signIn(a!, "alice")), b: await agentOn(b!, await signIn(b!, "alice")) };
    // 11 wrong keys, 6 through node a and 5 through node b: over the 10 an agent may fail in a minute.
    for (let i = 0; i < 11; i++) {
      const c = i % 2 === 0 ? consoles.a : consoles.b;
      c.send({ t: "join", key: String(100000 + i) });
      expect(await c.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    }
    for (const c of [consoles.a, consoles.b]) {
      c.send({ t: "join", key: "123456" });
      expect(await c.next("error")).toMatchObject({ code: "RATE_LIMITED" });
    }
  });

  it("a closed agent socket on node b leaves the session on node a; an unknown key on either node is KEY_NOT_FOUND", async () => {
    const [a, b] = await boot();
    const { v, key, alice } = await aliceWatches(a!, b!);
    await v.next("guests", (m) => m.count === 1);
    alice.close();
    expect(await v.next("guests", (m) => m.count === 0)).toMatchObject({ agents: [] });
    const bob = await agentOn(b!, await signIn(b!, "bob"));
    bob.send({ t: "join", key: key === "000000" ? "000001" : "000000" });
    expect(await bob.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
  });

  it("a visitor whose connection comes back on the other node takes the session with it: the agent rejoins the same key and sees the page again", async () => {
    const [a, b] = await boot();
    const { v, key, token, cookie, alice } = await aliceWatches(a!, b!);
    await framesArrive(v, alice, "on a");

    // The visitor's socket drops and its extension reconnects, through the balancer, to node b.
    v.close();
    await alice.next("visitorConnection", (m) => m.connected === false);
    const back = await visitorOn(b!, { sessionKey: key, token });
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: key });
    // Node a lets go: the agent's tunnel to it is closed with 1012, and the console rejoins.
    expect(await alice.closed).toMatchObject({ code: 1012 });
    const again = await agentOn(b!, cookie);
    again.send({ t: "join", key });
    expect(await again.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: true });
    await back.next("snapshotRequest");
    await framesArrive(back, again, "on b");
    // A wrong token takes nothing.
    const thief = await visitorOn(a!, { sessionKey: key, token: "x".repeat(43) });
    expect(await thief.next("error")).toMatchObject({ code: "RESUME_FAILED" });
    await framesArrive(back, again, "still on b");
  });

  it("a node lost mid-session (SIGKILL): the visitor resumes on the other node, the agent rejoins there, same key", async () => {
    const [a, b] = await boot();
    const { v, key, token, cookie, alice } = await aliceWatches(a!, b!);
    await framesArrive(v, alice, "before");

    await a!.kill();
    await v.closed;
    // Node b notices node a is gone (its heartbeat lapses) and closes the tunnel: the console rejoins.
    expect(await alice.closed).toMatchObject({ code: 1012 });
    const again = await agentOn(b!, cookie);
    again.send({ t: "join", key });
    // Node b takes the session over from the store: the agent waits for the visitor.
    expect(await again.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: false });
    const back = await visitorOn(b!, { sessionKey: key, token });
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: key, count: 1 });
    await again.next("visitorConnection", (m) => m.connected === true);
    await framesArrive(back, again, "after node a was lost");
  });

  it("Redis going away: live sessions carry on, joins and readiness say NOT_READY, nothing crashes, and it recovers when Redis is back", async () => {
    const [a, b] = await boot();
    const { v, key, alice } = await aliceWatches(a!, a!);

    await cluster.redis.kill();
    const ready = await fetch(`${b!.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ready: false, code: "NOT_READY", checks: { redis: "unreachable", database: "ok" } });
    // The session on node a does not need Redis: both its sides are on a.
    await framesArrive(v, alice, "without redis");
    // An agent on node b cannot find it and is told why.
    const bob = await agentOn(b!, await signIn(b!, "bob"));
    bob.send({ t: "join", key });
    expect(await bob.next("error")).toMatchObject({ code: "NOT_READY" });

    await cluster.redis.start();
    for (const node of [a!, b!]) await expect.poll(async () => (await fetch(`${node.url}/readyz`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
    // Redis came back empty: node a records its sessions again, and node b finds the session there.
    bob.send({ t: "join", key });
    expect(await bob.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: true });
    await framesArrive(v, bob, "after redis came back");
    expect(textOf(await alice.next("frames", (m) => textOf(m) === "after redis came back"))).toBe("after redis came back");
  });

  describe("one-click across nodes", () => {
    async function presentOn(node: TestNode, visitorId: string, extra: Record<string, unknown> = {}) {
      const v = track(await Client.open(`${node.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }));
      v.send({ t: "hello", v: 1, groupId: "demo", client: "test", role: "presence", visitorId, ...extra });
      return v;
    }

    async function onRecordOn(node: TestNode, username: string, visitorId: string) {
      const a = await agentOn(node, await signIn(node, username));
      a.send({ t: "watchVisitor", visitorId });
      return a;
    }

    /** The browser accepts on its presence connection and starts the session with the ticket, on `node`. */
    async function acceptOn(node: TestNode, v: Client, id: string, visitorId: string) {
      v.send({ t: "requestAnswer", id, status: "accepted" });
      const { ticket } = await v.next<{ t: string; ticket: string }>("requestAccepted");
      const s = track(await Client.open(`${node.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }));
      s.send({ t: "hello", v: 1, groupId: "demo", client: "test", role: "session", visitorId, ticket });
      await s.next("welcome");
      s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
      return s;
    }

    it("the visitor's browser on node a, the agent's console on node b, the session on either: online, request, accept, the agent joins, frames flow", async () => {
      const [a, b] = await boot();
      const v = await presentOn(a!, "cust-42");
      await v.next("welcome");
      v.send({ t: "presence", url: "https://shop.test/account", title: "My account", visible: true });
      const alice = await onRecordOn(b!, "alice", "cust-42");
      expect(await alice.next("visitorPresence", (m) => m.online === true && m.page !== null)).toMatchObject({ page: { url: "https://shop.test/account" } });
      // The CRM's HTTP lookup on either node sees the same.
      for (const node of [a!, b!]) {
        const response = await fetch(`${node.url}/api/visitors/cust-42`, { headers: { cookie: await signIn(node, "bob") } });
        expect(await response.json()).toMatchObject({ online: true, page: { title: "My account" } });
      }

      alice.send({ t: "requestShare", visitorId: "cust-42" });
      const shown = await v.next<{ t: string; id: string }>("shareRequest");
      expect(await alice.next("shareRequest")).toMatchObject({ id: shown.id, state: "pending" });
      v.send({ t: "requestAnswer", id: shown.id, status: "displayed" });
      expect(await alice.next("shareRequest", (m) => m.state === "displayed")).toBeTruthy();
      // The browser's session connection lands on node b (neither where it accepted, nor where alice is: b is alice's).
      const s = await acceptOn(b!, v, shown.id, "cust-42");
      expect(await s.next("sessionStarted")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
      expect(await alice.next("joined")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
      expect(await alice.next("shareRequest", (m) => m.state === "started")).toBeTruthy();
      // In the order one node gives them: the request has started, then the console is in the session.
      const order = alice.history.map((m) => (m.t === "shareRequest" ? `request ${String(m.state)}` : m.t));
      expect(order.indexOf("request started")).toBeLessThan(order.indexOf("joined"));
      await s.next("snapshotRequest");
      await framesArrive(s, alice, "one-click across nodes");
    });

    it("a session connection on node b for a request accepted on node a, with the agent on node a too", async () => {
      const [a, b] = await boot();
      const v = await presentOn(a!, "cust-7");
      await v.next("welcome");
      const alice = await onRecordOn(a!, "alice", "cust-7");
      await alice.next("visitorPresence", (m) => m.online === true);
      alice.send({ t: "requestShare", visitorId: "cust-7" });
      const { id } = await v.next<{ t: string; id: string }>("shareRequest");
      const s = await acceptOn(b!, v, id, "cust-7");
      await s.next("sessionStarted");
      expect(await alice.next("joined")).toMatchObject({ sessionKey: "cust-7", keyType: "visitor" });
      await framesArrive(s, alice, "session on b, agent on a");
      // Only the requesting agent may join: bob, on node b where the session is, is refused.
      const bob = await agentOn(b!, await signIn(b!, "bob"));
      bob.send({ t: "joinVisitor", visitorId: "cust-7" });
      expect(await bob.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    });

    it("cancel and ask again across nodes; the record follows a visitor who comes online on another node later", async () => {
      const [a, b] = await boot();
      // alice watches before the visitor is online anywhere.
      const alice = await onRecordOn(b!, "alice", "cust-9");
      expect(await alice.next("visitorPresence")).toMatchObject({ online: false });
      const v = await presentOn(a!, "cust-9");
      await v.next("welcome");
      expect(await alice.next("visitorPresence", (m) => m.online === true)).toMatchObject({ visitorId: "cust-9" });
      alice.send({ t: "requestShare", visitorId: "cust-9" });
      const first = await v.next<{ t: string; id: string }>("shareRequest");
      alice.send({ t: "cancelRequest", visitorId: "cust-9" });
      expect(await v.next("requestEnded")).toMatchObject({ id: first.id, state: "cancelled" });
      expect(await alice.next("shareRequest", (m) => m.state === "cancelled")).toBeTruthy();
      alice.send({ t: "requestShare", visitorId: "cust-9" });
      const second = await v.next<{ t: string; id: string }>("shareRequest");
      expect(second.id).not.toBe(first.id);
      v.send({ t: "requestAnswer", id: second.id, status: "declined" });
      expect(await alice.next("shareRequest", (m) => m.state === "declined")).toBeTruthy();
      // The visitor leaves: alice sees them offline.
      v.close();
      expect(await alice.next("visitorPresence", (m) => m.online === false)).toMatchObject({ visitorId: "cust-9" });
    });

    it.each(["b", "a"])("a request the visitor has not answered follows their browser to another node: shown again there, answered there, and the agent (console on node %s) joins", async (consoleOn) => {
      const [a, b] = await boot();
      const v = await presentOn(a!, "cust-5");
      await v.next("welcome");
      const alice = await onRecordOn(consoleOn === "a" ? a! : b!, "alice", "cust-5");
      await alice.next("visitorPresence", (m) => m.online === true);
      alice.send({ t: "requestShare", visitorId: "cust-5" });
      const shown = await v.next<{ t: string; id: string }>("shareRequest");
      v.send({ t: "requestAnswer", id: shown.id, status: "displayed" });
      await alice.next("shareRequest", (m) => m.state === "displayed");
      // The browser's presence connection drops and comes back through the balancer on node b.
      v.close();
      const back = await presentOn(b!, "cust-5");
      await back.next("welcome");
      expect(await back.next("shareRequest")).toMatchObject({ id: shown.id, agent: "alice" });
      const s = await acceptOn(b!, back, shown.id, "cust-5");
      expect(await s.next("sessionStarted")).toMatchObject({ sessionKey: "cust-5" });
      expect(await alice.next("joined")).toMatchObject({ sessionKey: "cust-5", keyType: "visitor" });
      expect(alice.received.some((m) => m.t === "shareRequest" && (m.state === "failed" || m.state === "cancelled"))).toBe(false);
      await framesArrive(s, alice, "after the move");
    });

    it("a browser without a token cannot take over a verified visitor whose browser is on another node", async () => {
      const [a, b] = await boot();
      const group = (await cluster.store.getGroup("demo"))!;
      const real = await presentOn(a!, "cust-42", { token: await signVisitorToken(group, "cust-42") });
      expect(await real.next("welcome")).toMatchObject({ verified: true });
      const impostor = await presentOn(b!, "cust-42");
      expect(await impostor.next("error")).toMatchObject({ code: "VISITOR_VERIFIED_ELSEWHERE" });
      expect((await impostor.closed).code).toBe(4003);
      // Requests still reach the real browser.
      const alice = await onRecordOn(b!, "alice", "cust-42");
      await alice.next("visitorPresence", (m) => m.online === true && m.verified === true);
      alice.send({ t: "requestShare", visitorId: "cust-42" });
      await real.next("shareRequest");
    });

    it("2,000 visitors online over both nodes: the HTTP lookup on either node and a console on each node see them online", async () => {
      // All from one address here: the per-address cap (100 by default) would refuse them.
      const [a, b] = await boot(2, { GLIMPSE_MAX_CONNECTIONS_PER_IP: "5000" });
      const visitors: Client[] = [];
      for (let i = 0; i < 2_000; i += 50) {
        const batch = await Promise.all(
          Array.from({ length: 50 }, async (_, j) => {
            const v = await Client.open(`${(i + j) % 2 === 0 ? a!.wsUrl : b!.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }, { deflate: false });
            v.send({ t: "hello", v: 1, groupId: "demo", client: "test", role: "presence", visitorId: `v-${i + j}` });
            await v.next("welcome", () => true, 30_000);
            return v;
          }),
        );
        visitors.push(...batch);
      }
      for (const v of visitors) track(v);
      const sample = [0, 1, 2, 3, 998, 999, 1_500, 1_999];
      for (const node of [a!, b!]) {
        const cookie = await signIn(node, "bob");
        for (const n of sample) {
          const response = await fetch(`${node.url}/api/visitors/v-${n}`, { headers: { cookie } });
          expect(await response.json(), `v-${n} on ${node.name}`).toMatchObject({ visitorId: `v-${n}`, online: true });
        }
        const console = await agentOn(node, cookie);
        for (const n of sample) {
          console.send({ t: "watchVisitor", visitorId: `v-${n}` });
          expect(await console.next("visitorPresence", (m) => m.visitorId === `v-${n}`)).toMatchObject({ online: true });
        }
      }
      const never = await fetch(`${b!.url}/api/visitors/v-2000`, { headers: { cookie: await signIn(b!, "bob") } });
      expect(await never.json()).toMatchObject({ online: false });
    });
  });
});
