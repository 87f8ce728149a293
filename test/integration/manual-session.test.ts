import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agent, Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
let password: string;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);

beforeEach(async () => {
  server = await startServer({ keyTtlMs: 60_000 });
  server.addGroup("demo");
  server.addGroup("other");
  password = await server.addAgent("demo", "alice");
  await server.addAgent("demo", "bob");
  await server.addAgent("other", "mallory");
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

const frame = (seq: number, text: string) => ({ t: "frames", seq, events: [{ type: 3, timestamp: Date.now(), data: { text } }] });

describe("manual session over real sockets", () => {
  it("starts a session with a 6-digit key that an agent joins; the visitor sees the guest count", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    expect(key).toMatch(/^\d{6}$/);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    const joined = await a.next("joined");
    expect(joined).toMatchObject({ sessionKey: key, keyType: "random", visitorConnected: true });
    expect(await v.next("guests")).toMatchObject({ count: 1, agents: ["alice"] });
    await v.next("snapshotRequest");
  });

  it("accepts a key typed with spaces or dashes, as read aloud", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key: `${key.slice(0, 3)} - ${key.slice(3)}` });
    expect(await a.next("joined")).toMatchObject({ sessionKey: key });
  });

  it("relays frames from the visitor to every agent in the session, byte for byte", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await a.next("joined");
    const sent = JSON.stringify(frame(1, "hello agent"));
    v.send(sent);
    const got = await a.next("frames");
    expect(JSON.stringify(got)).toBe(sent);
    expect(server.relayed).toContain(sent);
  });

  it("relays big batches framed once for all agents: byte for byte to each, deflated on the wire where the agent negotiated it", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const alice = track(await agent(server, "alice", password));
    const bob = track(await agent(server, "bob", password, { deflate: false }));
    expect(alice.socket.extensions).toContain("permessage-deflate");
    expect(bob.socket.extensions).toBe("");
    for (const a of [alice, bob]) {
      a.send({ t: "join", key });
      await a.next("joined");
    }
    const wire = (a: Client) => (a.socket as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
    const before = [wire(alice), wire(bob)];
    // Several in a row, small ones between: each message is compressed on its own and decodes alone.
    const sent = [frame(1, "row of an order table ".repeat(10_000)), frame(2, "tiny"), frame(3, "another page ".repeat(8_000)), frame(4, "x")].map((m) => JSON.stringify(m));
    for (const text of sent) v.send(text);
    for (const a of [alice, bob]) for (const text of sent) expect(JSON.stringify(await a.next("frames"))).toBe(text);
    const bytes = sent.reduce((n, text) => n + Buffer.byteLength(text), 0);
    expect(wire(bob) - before[1]!).toBeGreaterThan(bytes);
    expect(wire(alice) - before[0]!).toBeLessThan(bytes / 20);
  });

  it("answers a wrong key with KEY_NOT_FOUND and a non-numeric key with KEY_INVALID", async () => {
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key: "000000" });
    expect(await a.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    a.send({ t: "join", key: "12ab56" });
    expect(await a.next("error")).toMatchObject({ code: "KEY_INVALID" });
  });

  it("does not let an agent of another group join by key", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const m = track(await agent(server, "mallory", "correct horse battery"));
    m.send({ t: "join", key });
    expect(await m.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
  });

  it("sends a snapshot request when an agent joins late, and tells everyone the new guest count", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await a.next("joined");
    await v.next("snapshotRequest");
    v.send(frame(1, "before bob"));
    await a.next("frames");

    const b = track(await agent(server, "bob", "correct horse battery"));
    b.send({ t: "join", key });
    await b.next("joined");
    await v.next("snapshotRequest");
    expect(await v.next("guests", (m) => m.count === 2)).toMatchObject({ agents: ["alice", "bob"] });
    expect(await a.next("guests", (m) => m.count === 2)).toBeTruthy();
    v.send(frame(2, "after bob"));
    expect(await b.next("frames")).toMatchObject({ seq: 2 });
    expect(b.received.some((m) => m.t === "frames" && m.seq === 1)).toBe(false);
  });

  it("ends the session for the agent when the visitor stops", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await a.next("joined");
    v.send({ t: "endSession" });
    expect(await a.next("sessionEnded")).toMatchObject({ reason: "visitor_stopped" });
    expect(await v.next("sessionEnded")).toMatchObject({ reason: "visitor_stopped" });
    const again = track(await agent(server, "bob", "correct horse battery"));
    again.send({ t: "join", key });
    expect(await again.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
  });

  it("ends the session for the visitor and every agent when an agent ends it", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    const b = track(await agent(server, "bob", "correct horse battery"));
    a.send({ t: "join", key });
    await a.next("joined");
    b.send({ t: "join", key });
    await b.next("joined");
    a.send({ t: "endSession" });
    expect(await v.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    expect(await b.next("sessionEnded")).toMatchObject({ reason: "agent_ended" });
    const audit = server.store.auditRows("demo")[0];
    expect(audit).toMatchObject({ sessionKey: key, endReason: "agent_ended", agents: "alice,bob", site: "http://shop.test" });
  });

  it("keeps the session when an agent leaves, and lowers the guest count", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await v.next("guests", (m) => m.count === 1);
    a.close();
    expect(await v.next("guests", (m) => m.count === 0)).toMatchObject({ agents: [] });
    const b = track(await agent(server, "bob", "correct horse battery"));
    b.send({ t: "join", key });
    expect(await b.next("joined")).toMatchObject({ sessionKey: key });
  });

  it("passes the visitor's page to agents, including one that joins later", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    v.send({ t: "page", url: "http://shop.test/cart", title: "Cart" });
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    expect(await a.next("joined")).toMatchObject({ page: { url: "http://shop.test/cart", title: "Cart" } });
    v.send({ t: "page", url: "http://shop.test/checkout", title: "Checkout" });
    expect(await a.next("page")).toMatchObject({ url: "http://shop.test/checkout" });
  });
});

describe("key expiry", () => {
  it("expires an unjoined key: the visitor is told, and a later join gets KEY_EXPIRED", async () => {
    await server.close();
    server = await startServer({ keyTtlMs: 150 });
    server.addGroup("demo");
    await server.addAgent("demo", "alice", password);
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    expect(await v.next("sessionEnded")).toMatchObject({ reason: "expired" });
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    expect(await a.next("error")).toMatchObject({ code: "KEY_EXPIRED" });
  });

  it("does not expire a key once an agent has joined", async () => {
    await server.close();
    server = await startServer({ keyTtlMs: 150 });
    server.addGroup("demo");
    await server.addAgent("demo", "alice", password);
    const a = track(await agent(server, "alice", password));
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    a.send({ t: "join", key });
    await a.next("joined");
    await new Promise((r) => setTimeout(r, 400));
    expect(v.received.some((m) => m.t === "sessionEnded")).toBe(false);
    v.send(frame(1, "still here"));
    expect(await a.next("frames")).toMatchObject({ seq: 1 });
  });
});

describe("visitor reconnect", () => {
  it("resumes a session with its token after the visitor's socket drops, without the agent losing it", async () => {
    const { client: v, key, resumeToken } = await sharingVisitor(server);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await a.next("joined");
    v.close();
    expect(await a.next("visitorConnection")).toMatchObject({ connected: false });
    const back = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    back.send({ t: "hello", v: 1, groupId: "demo", client: "test", resume: { sessionKey: key, token: resumeToken } });
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: key, count: 1, agents: ["alice"] });
    expect(await a.next("visitorConnection")).toMatchObject({ connected: true });
    back.send(frame(5, "after resume"));
    expect(await a.next("frames")).toMatchObject({ seq: 5 });
  });

  it("refuses a resume with the wrong token", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const thief = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    thief.send({ t: "hello", v: 1, groupId: "demo", client: "test", resume: { sessionKey: key, token: "x".repeat(43) } });
    expect(await thief.next("error")).toMatchObject({ code: "RESUME_FAILED" });
    thief.send(frame(1, "injected"));
    expect(await thief.next("error")).toMatchObject({ code: "INVALID_STATE" });
  });

  it("ends the session as visitor_left when the visitor does not come back within the grace period", async () => {
    await server.close();
    server = await startServer({ resumeGraceMs: 100 });
    server.addGroup("demo");
    await server.addAgent("demo", "alice", password);
    const { client: v, key } = await sharingVisitor(server);
    const a = track(await agent(server, "alice", password));
    a.send({ t: "join", key });
    await a.next("joined");
    v.close();
    expect(await a.next("sessionEnded")).toMatchObject({ reason: "visitor_left" });
  });
});
