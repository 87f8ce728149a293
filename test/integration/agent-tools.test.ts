/** The agent's pointer through the real server: relayed to the visitor with the agent's name, checked, and withdrawn when the agent leaves. */
import { afterEach, describe, expect, it } from "vitest";
import { agent, Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const PW = "correct horse battery";

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

async function watched() {
  server = await startServer();
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
  const { client: v, key } = await sharingVisitor(server);
  const a = await agent(server, "alice", PW);
  clients.push(v, a);
  a.send({ t: "join", key });
  await a.next("joined");
  return { v, a, key };
}

describe("the agent's pointer and highlight", () => {
  it("reach the visitor with the agent's name, and are withdrawn when the agent leaves", async () => {
    const { v, a } = await watched();
    a.send({ t: "pointer", target: { id: 12, fx: 0.25, fy: 1 } });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: { id: 12, fx: 0.25, fy: 1 } });
    a.send({ t: "highlight", id: 40 });
    expect(await v.next("highlight")).toEqual({ t: "highlight", agent: "alice", id: 40 });
    a.send({ t: "leave" });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: null });
    expect(await v.next("highlight")).toEqual({ t: "highlight", agent: "alice", id: null });
  });

  it("relay a stroke with the agent's name, and refuse one of fewer than 2 or more than 200 points or with a bad point (BAD_MESSAGE)", async () => {
    const { v, a } = await watched();
    const stroke = [{ id: 12, fx: 0, fy: 0.5 }, { id: 12, fx: 0.5, fy: 0.5 }, { id: 14, fx: 1, fy: 0 }];
    a.send({ t: "draw", stroke });
    expect(await v.next("draw")).toEqual({ t: "draw", agent: "alice", stroke });
    const point = { id: 1, fx: 0.5, fy: 0.5 };
    for (const bad of [[point], Array.from({ length: 201 }, () => point), [point, { id: 1, fx: 2, fy: 0 }], [point, { fx: 0, fy: 0 }]]) {
      a.send({ t: "draw", stroke: bad });
      expect(await a.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    expect(v.received.filter((m) => m.t === "draw")).toEqual([]);
  });

  it("refuse a target outside the element's box or without a node id (BAD_MESSAGE), and relay nothing", async () => {
    const { v, a } = await watched();
    for (const target of [{ id: 12, fx: 1.5, fy: 0 }, { id: -1, fx: 0, fy: 0 }, { fx: 0, fy: 0 }]) {
      a.send({ t: "pointer", target });
      expect(await a.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    for (const id of [-3, 1.5, "12"]) {
      a.send({ t: "highlight", id });
      expect(await a.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    a.send({ t: "pointer", target: null });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: null });
    expect(v.received.filter((m) => m.t === "pointer" || m.t === "highlight")).toEqual([]);
  });

  it("are dropped quietly from an agent in no session (one sent as a session ends is no error)", async () => {
    server = await startServer();
    server.addGroup("demo");
    await server.addAgent("demo", "alice", PW);
    const a = await agent(server, "alice", PW);
    clients.push(a);
    a.send({ t: "pointer", target: null });
    a.send({ t: "join", key: "000000" });
    expect(await a.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" }); // the first error is the join's
  });
});

describe("pause", () => {
  it("tells the agents why they see no page, a late joiner too, until the next page", async () => {
    const { v, a, key } = await watched();
    await server.addAgent("demo", "bob", PW);
    v.send({ t: "paused", reason: "visitor" });
    expect(await a.next("paused")).toEqual({ t: "paused", reason: "visitor" });
    const b = await agent(server, "bob", PW);
    clients.push(b);
    b.send({ t: "join", key });
    await b.next("joined");
    expect(await b.next("paused")).toEqual({ t: "paused", reason: "visitor" });
    // An older extension says only "paused" when the tab leaves the site.
    v.send({ t: "paused" });
    expect(await a.next("paused")).toEqual({ t: "paused", reason: "left_site" });
    expect(await b.next("paused")).toEqual({ t: "paused", reason: "left_site" });
    // The next page takes the placeholder away, for agents who join later too.
    v.send({ t: "page", url: "https://shop.test/cart", title: "Cart" });
    await a.next("page");
    b.send({ t: "leave" });
    b.send({ t: "join", key });
    expect(await b.next("joined", (m) => m.page !== null)).toMatchObject({ page: { url: "https://shop.test/cart" } });
    b.send({ t: "highlight", id: -1 }); // answered with an error: everything the join sent has arrived before it
    await b.next("error");
    expect(b.received.filter((m) => m.t === "paused")).toEqual([]);
  });
});

describe("invitations", () => {
  it("need a session to invite into (INVALID_STATE) and bring a colleague into a random-key session without the key", async () => {
    const { a, key } = await watched();
    await server.addAgent("demo", "bob", PW);
    const b = await agent(server, "bob", PW);
    clients.push(b);
    b.send({ t: "invite" });
    expect(await b.next("error")).toMatchObject({ code: "INVALID_STATE" });
    b.send({ t: "joinInvite", token: "x".repeat(43) });
    expect(await b.next("error")).toMatchObject({ code: "INVITE_INVALID" });
    a.send({ t: "invite" });
    const { token } = await a.next<{ t: string; token: string }>("invited");
    b.send({ t: "joinInvite", token });
    expect(await b.next("joined")).toMatchObject({ sessionKey: key, keyType: "random" });
  });
});

describe("remote control through the server", () => {
  const auditOf = () => {
    const row = server.store.auditRows("demo")[0]!;
    return server.store.auditEvents(row.id).map((e) => `${e.agent}:${e.event}`);
  };

  it("relays actions only from the agent the visitor granted, one agent at a time, and writes grant, suspension, revocation to the audit log", async () => {
    const { v, a, key } = await watched();
    await server.addAgent("demo", "bob", PW);
    const b = await agent(server, "bob", PW);
    clients.push(b);
    b.send({ t: "join", key });
    await b.next("joined");

    // No grant: refused, nothing reaches the visitor.
    a.send({ t: "control", action: { kind: "click", id: 5 } });
    expect(await a.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED" });
    a.send({ t: "controlRequest" });
    expect(await v.next("controlRequest")).toEqual({ t: "controlRequest", agent: "alice" });
    expect(await b.next("controlState")).toEqual({ t: "controlState", agent: "alice", state: "asked" });
    a.send({ t: "control", action: { kind: "click", id: 5 } }); // asked is not granted
    expect(await a.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED" });
    b.send({ t: "controlRequest" });
    expect(await b.next("error")).toMatchObject({ code: "CONTROL_BUSY" });

    v.send({ t: "controlState", state: "granted" });
    expect(await a.next("controlState", (m) => m.state === "granted")).toEqual({ t: "controlState", agent: "alice", state: "granted" });
    a.send({ t: "control", action: { kind: "input", id: 9, value: "Vera" } });
    expect(await v.next("control")).toEqual({ t: "control", agent: "alice", action: { kind: "input", id: 9, value: "Vera" } });
    // Another agent in the same session still cannot act.
    b.send({ t: "control", action: { kind: "click", id: 5 } });
    expect(await b.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED" });

    // A refusal on the page reaches only the agent in control, with the reason.
    v.send({ t: "controlRefused", reason: "masked" });
    expect(await a.next("error")).toMatchObject({ code: "CONTROL_REFUSED", message: expect.stringMatching(/^That field is masked/) });

    v.send({ t: "controlState", state: "suspended" });
    await a.next("controlState", (m) => m.state === "suspended");
    a.send({ t: "control", action: { kind: "scroll", x: 0, y: 100 } });
    expect(await a.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED", message: expect.stringMatching(/using the page/) });
    v.send({ t: "controlState", state: "revoked" });
    await a.next("controlState", (m) => m.state === "revoked");
    a.send({ t: "control", action: { kind: "click", id: 5 } });
    expect(await a.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED" });
    expect(v.received.filter((m) => m.t === "control")).toEqual([]);
    expect(auditOf()).toEqual(["alice:control_asked", "alice:control_granted", "alice:control_suspended", "alice:control_revoked"]);
  });

  it("keeps sessions apart: control granted in one session gives an agent of another nothing", async () => {
    const { v, a } = await watched();
    a.send({ t: "controlRequest" });
    await v.next("controlRequest");
    v.send({ t: "controlState", state: "granted" });
    await a.next("controlState", (m) => m.state === "granted");
    // bob is in a second session (its own visitor), which granted nothing.
    await server.addAgent("demo", "bob", PW);
    const { client: v2, key: key2 } = await sharingVisitor(server);
    const b = await agent(server, "bob", PW);
    clients.push(v2, b);
    b.send({ t: "join", key: key2 });
    await b.next("joined");
    b.send({ t: "control", action: { kind: "click", id: 5 } });
    expect(await b.next("error")).toMatchObject({ code: "CONTROL_NOT_GRANTED" });
    a.send({ t: "control", action: { kind: "click", id: 6 } }); // alice's still reaches her own visitor only
    expect(await v.next("control")).toMatchObject({ agent: "alice", action: { id: 6 } });
    expect(v.received.filter((m) => m.t === "control")).toEqual([]);
    expect(v2.received.filter((m) => m.t === "control")).toEqual([]);
  });

  it("refuses malformed actions (BAD_MESSAGE) and takes control away with the agent who leaves", async () => {
    const { v, a } = await watched();
    for (const action of [{ kind: "click" }, { kind: "click", id: -1 }, { kind: "type", id: 1 }, { kind: "input", id: 1, value: "x".repeat(10_001) }, { kind: "scroll", x: -5, y: 0 }]) {
      a.send({ t: "control", action });
      expect(await a.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    a.send({ t: "controlRequest" });
    await v.next("controlRequest");
    v.send({ t: "controlState", state: "granted" });
    await a.next("controlState", (m) => m.state === "granted");
    a.send({ t: "leave" });
    expect(await v.next("controlReleased")).toEqual({ t: "controlReleased", agent: "alice" });
    // A visitor's word on control nobody asked for is refused.
    v.send({ t: "controlState", state: "granted" });
    expect(await v.next("error")).toMatchObject({ code: "INVALID_STATE" });
    expect(auditOf()).toEqual(["alice:control_asked", "alice:control_granted", "alice:control_released"]);
  });
});
