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

/** The same world on a server started with `config` (a shortened lifetime). */
async function restartWith(config: Parameters<typeof startServer>[0]) {
  await server.close();
  server = await startServer(config);
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
}

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
  it("does not compress a presence connection (it would cost every idle one a zlib context); a session connection is compressed", async () => {
    // ws offers permessage-deflate by default, as browsers do.
    const presence = track(await Client.open(`${server.wsUrl}/ws/visitor?role=presence`));
    const session = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    expect(presence.socket.extensions).toBe("");
    expect(session.socket.extensions).toContain("permessage-deflate");
    presence.send({ t: "hello", v: 1, groupId: "demo", client: "test", visitorId: "vera@example.com", role: "presence" });
    expect(await presence.next("welcome")).toMatchObject({ visitorId: "vera@example.com" });
  });

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

  /** An agent on the visitor's record. */
  async function onRecord(username: string, visitorId: string) {
    const a = track(await agent(server, username, PW));
    a.send({ t: "watchVisitor", visitorId });
    await a.next("visitorPresence");
    return a;
  }

  /** The visitor's browser accepts the request it was shown, then starts the session with the ticket. */
  async function accept(v: Client, id: string, visitorId: string) {
    v.send({ t: "requestAnswer", id, status: "accepted" });
    const { ticket } = await v.next<{ t: string; ticket: string }>("requestAccepted");
    const s = await hello({ role: "session", visitorId, ticket });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    return s;
  }

  it("runs a share request: pending → displayed → accepted, and the requesting agent joins the visitor's session without a key", async () => {
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const shown = await v.next<{ t: string; id: string; agent: string }>("shareRequest");
    expect(shown.agent).toBe("alice");
    expect(await a.next("shareRequest")).toMatchObject({ id: shown.id, agent: "alice", state: "pending" });
    v.send({ t: "requestAnswer", id: shown.id, status: "displayed" });
    expect(await a.next("shareRequest")).toMatchObject({ state: "displayed" });

    const s = await accept(v, shown.id, "cust-42");
    expect(await a.next("shareRequest", (m) => m.state === "accepted")).toBeTruthy();
    expect(await s.next("sessionStarted")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
    expect(await a.next("joined")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
    expect(await a.next("shareRequest", (m) => m.state === "started")).toBeTruthy();
    await s.next("snapshotRequest");
    s.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: 1, data: {} }] });
    expect(await a.next("frames")).toMatchObject({ seq: 1 });
  });

  it("accepts on the identity the presence connection proved, though the login token has expired since", async () => {
    await restartWith({ tokenMaxAgeS: 2 });
    const token = await signVisitorToken(group("demo"), "cust-42", 60);
    const v = await present("cust-42", { token });
    expect(v.received.length).toBe(0);
    const a = await onRecord("alice", "cust-42");
    // Whole seconds: after 3 s its age is at least 3, older than the 2 s the server accepts.
    await new Promise((r) => setTimeout(r, 3_100));
    // Presenting the token again is refused...
    const again = await hello({ role: "session", visitorId: "cust-42", token });
    expect(await again.next("error")).toMatchObject({ code: "TOKEN_INVALID" });
    // ...but the accepted request's ticket starts the session, verified.
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    const s = await accept(v, id, "cust-42");
    expect(await s.next("sessionStarted")).toMatchObject({ sessionKey: "cust-42" });
    expect(await a.next("joined")).toMatchObject({ sessionKey: "cust-42" });
  });

  it("withdraws a cancelled request from the visitor, and an answer after that is refused", async () => {
    const v = await present("12345678");
    const a = await onRecord("alice", "12345678");
    a.send({ t: "requestShare", visitorId: "12345678" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    a.send({ t: "cancelRequest", visitorId: "12345678" });
    expect(await v.next("requestEnded")).toMatchObject({ id, state: "cancelled" });
    expect(await a.next("shareRequest", (m) => m.state === "cancelled")).toBeTruthy();
    v.send({ t: "requestAnswer", id, status: "accepted" });
    expect(await v.next("error")).toMatchObject({ code: "REQUEST_NOT_FOUND" });
    // Nothing can start a session keyed by the visitor without an accepted request.
    const s = await hello({ role: "session", visitorId: "12345678" });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    expect(await s.next("error")).toMatchObject({ code: "TICKET_INVALID" });
  });

  it("expires an unanswered request on both sides, and the agent can ask again", async () => {
    await restartWith({ requestTtlMs: 300 });
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    expect(await v.next("requestEnded")).toMatchObject({ id, state: "expired" });
    expect(await a.next("shareRequest", (m) => m.state === "expired")).toBeTruthy();
    a.send({ t: "requestShare", visitorId: "cust-42" });
    expect((await v.next<{ t: string; id: string }>("shareRequest")).id).not.toBe(id);
  });

  it("keeps two agents' requests apart: one at a time, a decline ends only that one, only the accepting request's agent joins", async () => {
    await server.addAgent("demo", "bob", PW);
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    const b = await onRecord("bob", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const first = await v.next<{ t: string; id: string; agent: string }>("shareRequest");
    expect(await b.next("shareRequest")).toMatchObject({ agent: "alice", state: "pending" });
    b.send({ t: "requestShare", visitorId: "cust-42" });
    expect(await b.next("error")).toMatchObject({ code: "REQUEST_PENDING" });
    v.send({ t: "requestAnswer", id: first.id, status: "declined" });
    expect(await a.next("shareRequest", (m) => m.state === "declined")).toBeTruthy();

    b.send({ t: "requestShare", visitorId: "cust-42" });
    const second = await v.next<{ t: string; id: string; agent: string }>("shareRequest");
    expect(second.agent).toBe("bob");
    const s = await accept(v, second.id, "cust-42");
    await s.next("sessionStarted");
    expect(await b.next("joined")).toMatchObject({ sessionKey: "cust-42" });
    await new Promise((r) => setTimeout(r, 300));
    expect(a.received.some((m) => m.t === "joined")).toBe(false);
    a.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await a.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
  });

  it("takes a one-click session back after a server restart: the agent whose request started it rejoins, no other agent can", async () => {
    await server.addAgent("demo", "bob", PW);
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    const s = await accept(v, id, "cust-42");
    const { resumeToken } = await s.next<{ t: string; resumeToken: string }>("sessionStarted");
    await a.next("joined");

    await server.restart();
    const back = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    back.send({ t: "hello", v: 1, groupId: "demo", client: "test", resume: { sessionKey: "cust-42", token: resumeToken } });
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: "cust-42" });
    const other = track(await agent(server, "bob", PW));
    other.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await other.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    const again = track(await agent(server, "alice", PW));
    again.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await again.next("joined")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor", visitorConnected: true });
  });

  it("lets the agent invite a colleague into a one-click session: one join per link, the same group only; the colleague may rejoin, nobody else", async () => {
    await server.addAgent("demo", "bob", PW);
    await server.addAgent("demo", "carol", PW);
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    const s = await accept(v, id, "cust-42");
    await s.next("sessionStarted");
    await a.next("joined");
    a.send({ t: "invite" });
    const { token, expiresAt } = await a.next<{ t: string; token: string; expiresAt: number }>("invited");
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBeGreaterThan(Date.now() + 9 * 60_000);

    // Without the link a colleague cannot join; from another group the link does not work.
    const c = track(await agent(server, "carol", PW));
    c.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await c.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
    const m = track(await agent(server, "mallory", PW));
    m.send({ t: "joinInvite", token });
    expect(await m.next("error")).toMatchObject({ code: "INVITE_INVALID" });

    const b = track(await agent(server, "bob", PW));
    b.send({ t: "joinInvite", token });
    expect(await b.next("joined")).toMatchObject({ sessionKey: "cust-42", keyType: "visitor" });
    expect(await a.next("guests", (m) => (m.agents as string[]).length === 2)).toMatchObject({ agents: ["alice", "bob"] });
    c.send({ t: "joinInvite", token }); // used once already
    expect(await c.next("error")).toMatchObject({ code: "INVITE_INVALID" });

    // bob reloads his console: he rejoins as alice would.
    b.close();
    const again = track(await agent(server, "bob", PW));
    again.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await again.next("joined")).toMatchObject({ sessionKey: "cust-42" });

    // A link made before the session ended opens nothing after it.
    a.send({ t: "invite" });
    const late = await a.next<{ t: string; token: string }>("invited");
    a.send({ t: "endSession" });
    await a.next("sessionEnded");
    c.send({ t: "joinInvite", token: late.token });
    expect(await c.next("error")).toMatchObject({ code: "INVITE_INVALID" });
  });

  it("lets a reloaded console keep its request and rejoin its session", async () => {
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    a.close(); // the agent reloads the record page
    const again = await onRecord("alice", "cust-42");
    expect(await again.next("shareRequest")).toMatchObject({ id, state: "pending" });
    const s = await accept(v, id, "cust-42");
    await s.next("sessionStarted");
    expect(await again.next("joined")).toMatchObject({ sessionKey: "cust-42" });
    again.close(); // and reloads mid-session
    const third = track(await agent(server, "alice", PW));
    third.send({ t: "joinVisitor", visitorId: "cust-42" });
    expect(await third.next("joined")).toMatchObject({ sessionKey: "cust-42" });
  });

  it("cancels the request of a console that closes and does not come back", async () => {
    await restartWith({ agentGraceMs: 200 });
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    a.close();
    expect(await v.next("requestEnded")).toMatchObject({ id, state: "cancelled" });
  });

  it("does not let a client with the same visitor ID and no token take over a verified visitor", async () => {
    const token = await signVisitorToken(group("demo"), "cust-42");
    const real = await present("cust-42", { token });
    const a = await onRecord("alice", "cust-42");
    // The impostor is refused, and the real browser is neither blurred nor marked unverified.
    const impostor = await hello({ visitorId: "cust-42", role: "presence" });
    expect(await impostor.next("error")).toMatchObject({ code: "VISITOR_VERIFIED_ELSEWHERE" });
    expect((await impostor.closed).code).toBe(4003);
    expect(real.received.some((m) => m.t === "presenceBlur")).toBe(false);
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await real.next<{ t: string; id: string }>("shareRequest");
    // A session connection without a ticket cannot start (or end) the visitor's one-click session.
    const s = await hello({ role: "session", visitorId: "cust-42" });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://evil.test" });
    expect(await s.next("error")).toMatchObject({ code: "TICKET_INVALID" });
    const forged = await hello({ role: "session", visitorId: "cust-42", ticket: "x".repeat(43) });
    expect(await forged.next("error")).toMatchObject({ code: "TICKET_INVALID" });
    // The real visitor still accepts, and the agent joins the real browser's session.
    const started = await accept(real, id, "cust-42");
    await started.next("sessionStarted");
    expect(await a.next("joined")).toMatchObject({ sessionKey: "cust-42" });
    expect(await a.next("shareRequest", (m) => m.state === "started")).toBeTruthy();
  });

  it("refuses a visitor socket without Origin", async () => {
    const raw = track(await Client.open(`${server.wsUrl}/ws/visitor`, { Origin: "" }));
    expect(await raw.next("error")).toMatchObject({ code: "ORIGIN_REQUIRED" });
    expect((await raw.closed).code).toBe(4403);
  });

  it("keeps groups apart: an agent of another group neither sees nor signals the visitor", async () => {
    const v = await present("cust-42");
    const m = track(await agent(server, "mallory", PW));
    m.send({ t: "watchVisitor", visitorId: "cust-42" });
    expect(await m.next("visitorPresence")).toMatchObject({ online: false });
    m.send({ t: "requestShare", visitorId: "cust-42" });
    expect(await m.next("error")).toMatchObject({ code: "VISITOR_OFFLINE" });
    await new Promise((r) => setTimeout(r, 200));
    expect(v.received.some((msg) => msg.t === "shareRequest")).toBe(false);
  });

  it("blurs the older browser when the same visitor comes online in another, and signals only the newer", async () => {
    const first = await present("cust-42");
    const second = await present("cust-42");
    await first.next("presenceBlur");
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "requestShare", visitorId: "cust-42" });
    await second.next("shareRequest");
    await new Promise((r) => setTimeout(r, 200));
    expect(first.received.some((msg) => msg.t === "shareRequest")).toBe(false);
  });

  it("shows an open request again to a browser that reconnects (a restarted background)", async () => {
    const v = await present("cust-42");
    const a = await onRecord("alice", "cust-42");
    a.send({ t: "requestShare", visitorId: "cust-42" });
    const { id } = await v.next<{ t: string; id: string }>("shareRequest");
    v.close();
    await a.next("visitorPresence", (m) => m.online === false);
    const back = await present("cust-42");
    expect(await back.next("shareRequest")).toMatchObject({ id, agent: "alice" });
    back.send({ t: "requestAnswer", id, status: "accepted" });
    expect(await back.next("requestAccepted")).toMatchObject({ id });
  });

  it("answers VISITOR_OFFLINE for a visitor never seen", async () => {
    const a = track(await agent(server, "alice", PW));
    a.send({ t: "requestShare", visitorId: "nobody" });
    expect(await a.next("error")).toMatchObject({ code: "VISITOR_OFFLINE" });
  });

  it("refuses a one-click session on a connection without a visitor ID", async () => {
    const s = await hello({});
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.test" });
    expect(await s.next("error")).toMatchObject({ code: "NOT_LINKED" });
  });
});
