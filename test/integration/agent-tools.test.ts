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
