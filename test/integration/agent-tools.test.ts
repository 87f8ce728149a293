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
  return { v, a };
}

describe("the agent's pointer", () => {
  it("reaches the visitor with the agent's name, and a null target when the agent leaves", async () => {
    const { v, a } = await watched();
    a.send({ t: "pointer", target: { id: 12, fx: 0.25, fy: 1 } });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: { id: 12, fx: 0.25, fy: 1 } });
    a.send({ t: "leave" });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: null });
  });

  it("refuses a target outside the element's box or without a node id (BAD_MESSAGE), and relays nothing", async () => {
    const { v, a } = await watched();
    for (const target of [{ id: 12, fx: 1.5, fy: 0 }, { id: -1, fx: 0, fy: 0 }, { fx: 0, fy: 0 }]) {
      a.send({ t: "pointer", target });
      expect(await a.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    }
    a.send({ t: "pointer", target: null });
    expect(await v.next("pointer")).toEqual({ t: "pointer", agent: "alice", target: null });
    expect(v.received.filter((m) => m.t === "pointer")).toEqual([]);
  });

  it("is dropped quietly from an agent in no session (one sent as a session ends is no error)", async () => {
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
