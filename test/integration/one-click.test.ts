import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signVisitorToken } from "../../server/identity";
import { agent, Client, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";

beforeEach(async () => {
  server = await startServer();
  server.addGroup("demo");
  server.addGroup("other");
  server.addGroup("strict", 6, true);
  await server.addAgent("demo", "alice", PW);
  await server.addAgent("other", "mallory", PW);
  await server.addAgent("strict", "sam", PW);
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

const group = (id: string) => server.store.getGroup(id)!;

async function hello(extra: Record<string, unknown>, groupId = "demo") {
  const client = track(await Client.open(`${server.wsUrl}/ws/visitor`));
  client.send({ t: "hello", v: 1, groupId, client: "test", ...extra });
  return client;
}

async function present(visitorId: string, extra: Record<string, unknown> = {}, groupId = "demo") {
  const client = await hello({ visitorId, role: "presence", ...extra }, groupId);
  await client.next("welcome");
  return client;
}

describe("visitor identity tokens", () => {
  it("marks a visitor with a valid token as verified", async () => {
    const token = await signVisitorToken(group("demo"), "cust-42");
    const v = await hello({ visitorId: "cust-42", token, role: "presence" });
    expect(await v.next("welcome")).toMatchObject({ visitorId: "cust-42", verified: true });
  });

  it("accepts a visitor without a token as unverified", async () => {
    const v = await hello({ visitorId: "cust-42", role: "presence" });
    expect(await v.next("welcome")).toMatchObject({ verified: false });
  });

  it.each([
    ["expired", async () => signVisitorToken(group("demo"), "cust-42", -60)],
    ["signed for another group", async () => signVisitorToken(group("other"), "cust-42")],
    ["for another visitor", async () => signVisitorToken(group("demo"), "cust-43")],
    ["tampered with", async () => {
      const [h, p, s] = (await signVisitorToken(group("demo"), "cust-42")).split(".");
      const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
      return [h, Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 3600 })).toString("base64url"), s].join(".");
    }],
    ["not a JWT", async () => "garbage"],
  ])("refuses a token that is %s with TOKEN_INVALID", async (_name, make) => {
    const v = await hello({ visitorId: "cust-42", token: await make(), role: "presence" });
    const error = await v.next("error");
    expect(error).toMatchObject({ code: "TOKEN_INVALID" });
    expect((await v.closed).code).toBe(4003);
  });

  it("refuses a visitor without a token when the group requires verified visitors", async () => {
    const v = await hello({ visitorId: "cust-42", role: "presence" }, "strict");
    expect(await v.next("error")).toMatchObject({ code: "VERIFICATION_REQUIRED" });
    const token = await signVisitorToken(group("strict"), "cust-42");
    const ok = await hello({ visitorId: "cust-42", token, role: "presence" }, "strict");
    expect(await ok.next("welcome")).toMatchObject({ verified: true });
  });
});

describe("presence and one-click sessions", () => {
  it("shows the agent the visitor online with their page, then offline when they leave", async () => {
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "watchVisitor", visitorId: "cust-42" });
    expect(await a.next("visitorPresence")).toMatchObject({ online: false });
    const v = await present("cust-42");
    expect(await a.next("visitorPresence", (m) => m.online === true)).toMatchObject({ verified: false });
    v.send({ t: "presence", url: "https://shop.test/cart", title: "Cart", visible: true });
    expect(await a.next("visitorPresence", (m) => m.page !== null)).toMatchObject({ page: { url: "https://shop.test/cart", title: "Cart" }, visible: true });
    v.close();
    expect(await a.next("visitorPresence", (m) => m.online === false)).toMatchObject({ page: null });
  });

  it("runs the terms handshake and lets the waiting agent join the visitor's session without a key", async () => {
    const v = await present("cust-42");
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "watchVisitor", visitorId: "cust-42" });
    await a.next("visitorPresence", (m) => m.online === true);
    a.send({ t: "showTerms", visitorId: "cust-42" });
    a.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await v.next("signal")).toMatchObject({ type: "showterms", agent: "alice" });
    expect(await a.next("terms")).toMatchObject({ status: "sent" });
    expect(await a.next("waiting")).toMatchObject({ visitorId: "cust-42" });
    v.send({ t: "signalAgent", event: "terms", status: "displayed" });
    expect(await a.next("terms")).toMatchObject({ status: "displayed" });
    v.send({ t: "signalAgent", event: "terms", status: "accepted" });
    expect(await a.next("terms")).toMatchObject({ status: "accepted" });

    const s = await hello({ visitorId: "cust-42", role: "session" });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    expect(await s.next("sessionStarted")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
    expect(await a.next("joined")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
    await s.next("snapshotRequest");
    s.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: 1, data: {} }] });
    expect(await a.next("frames")).toMatchObject({ seq: 1 });
  });

  it("stops waiting when the visitor declines, so a later session does not auto-join", async () => {
    const v = await present("12345678");
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "watchVisitor", visitorId: "12345678" });
    a.send({ t: "showTerms", visitorId: "12345678" });
    a.send({ t: "joinVisitor", visitorId: "12345678" });
    await a.next("waiting");
    await v.next("signal");
    v.send({ t: "signalAgent", event: "terms", status: "declined" });
    expect(await a.next("terms", (m) => m.status === "declined")).toBeTruthy();
    const s = await hello({ visitorId: "12345678", role: "session" });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    await s.next("sessionStarted");
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received.some((m) => m.t === "joined")).toBe(false);
  });

  it("keeps groups apart: an agent of another group neither sees nor signals the visitor", async () => {
    const v = await present("cust-42");
    const m = track(await agent(server, "mallory", PW));
    m.send({ t: "watchVisitor", visitorId: "cust-42" });
    expect(await m.next("visitorPresence")).toMatchObject({ online: false });
    m.send({ t: "showTerms", visitorId: "cust-42" });
    expect(await m.next("error")).toMatchObject({ code: "VISITOR_OFFLINE" });
    await new Promise((r) => setTimeout(r, 200));
    expect(v.received.some((msg) => msg.t === "signal")).toBe(false);
  });

  it("blurs the older browser when the same visitor comes online in another, and signals only the newer", async () => {
    const first = await present("cust-42");
    const second = await present("cust-42");
    await first.next("presenceBlur");
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "showTerms", visitorId: "cust-42" });
    await second.next("signal");
    await new Promise((r) => setTimeout(r, 200));
    expect(first.received.some((msg) => msg.t === "signal")).toBe(false);
  });

  it("holds a signal for a visitor who is reconnecting and delivers it when they are back", async () => {
    const v = await present("cust-42");
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "watchVisitor", visitorId: "cust-42" });
    await a.next("visitorPresence", (m) => m.online === true);
    v.close();
    await a.next("visitorPresence", (m) => m.online === false);
    a.send({ t: "showTerms", visitorId: "cust-42" });
    expect(await a.next("terms")).toMatchObject({ status: "sent" });
    const back = await present("cust-42");
    expect(await back.next("signal")).toMatchObject({ type: "showterms" });
  });

  it("answers VISITOR_OFFLINE for a visitor never seen", async () => {
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "showTerms", visitorId: "nobody" });
    expect(await a.next("error")).toMatchObject({ code: "VISITOR_OFFLINE" });
  });

  it("refuses a one-click session on a connection without a visitor ID", async () => {
    const s = await hello({});
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    expect(await s.next("error")).toMatchObject({ code: "NOT_LINKED" });
  });
});
