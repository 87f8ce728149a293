/**
 * A few kilobytes must not buy seconds of server time: a compressed bracket bomb, deep nesting,
 * huge arrays and floods are refused before or instead of being parsed, the offending client is
 * closed, and a live session beside it keeps flowing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { deflateRawSync } from "node:zlib";
import { MAX_JSON_DEPTH, PRE_HELLO_MAX_BYTES } from "../../server/frame-guard";
import { agent, Client, sharingVisitor, startServer, visitor, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

async function setup(config = {}) {
  server = await startServer(config);
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
  // A live session with an agent watching, which must keep flowing throughout.
  const { client: v, key } = await sharingVisitor(server);
  track(v);
  const a = track(await agent(server, "alice", PW));
  a.send({ t: "join", key });
  await a.next("joined");
  let n = 0;
  const stillFlowing = async () => {
    const mark = `still-flowing-${++n}`;
    v.send({ t: "frames", seq: n, events: [{ type: 5, timestamp: Date.now(), data: { tag: mark, payload: {} } }] });
    await a.next("frames", (m) => JSON.stringify(m).includes(mark), 20_000);
  };
  await stillFlowing();
  return { stillFlowing };
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("cheap rejection", () => {
  it("closes a client whose first frame is a compressed 4 MB bracket bomb, without parsing it", async () => {
    const { stillFlowing } = await setup();
    const bomb = nested(2 * 1024 * 1024);
    // What travels: a few kilobytes (permessage-deflate, which every browser offers).
    expect(deflateRawSync(bomb).length).toBeLessThan(16 * 1024);
    const attackers = await Promise.all(Array.from({ length: 4 }, async () => track(await Client.open(`${server.wsUrl}/ws/visitor`))));
    for (const attacker of attackers) attacker.send(bomb);
    for (const attacker of attackers) {
      expect(await attacker.next("error", () => true, 20_000)).toMatchObject({ code: "MESSAGE_TOO_LARGE" });
      expect((await attacker.closed).code).toBe(1009);
    }
    expect(server.inbound.some((text) => text.startsWith("[[[["))).toBe(false); // never reached a handler
    await stillFlowing();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it(`drops a message nested deeper than ${MAX_JSON_DEPTH} levels before parsing it; the connection goes on`, async () => {
    const { stillFlowing } = await setup();
    const v = track(await visitor(server));
    v.send(`{"t":"frames","seq":1,"events":${nested(1_500_000)}}`);
    const error = await v.next<{ t: string; code: string; message: string }>("error", () => true, 20_000);
    expect(error.code).toBe("BAD_MESSAGE");
    expect(error.message).toContain(String(MAX_JSON_DEPTH));
    expect(server.inbound.some((text) => text.includes("[[[[[[[["))).toBe(false);
    // An honest deep page still passes: a snapshot nested about as deep as HTML parsers allow.
    v.send({ t: "startSession", keyType: "random", site: "http://shop.test" });
    await v.next("sessionStarted");
    v.send(`{"t":"frames","seq":1,"events":[{"type":2,"timestamp":1,"data":{"node":${nested(1_000)}}}]}`);
    await expect.poll(() => server.relayed.some((text) => text.includes(nested(1_000))), { timeout: 10_000 }).toBe(true);
    await stillFlowing();
  });

  it("takes a hello up to its size, nothing bigger before hello", async () => {
    await setup();
    const big = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    big.send({ t: "hello", v: 1, groupId: "demo", client: "x".repeat(PRE_HELLO_MAX_BYTES) });
    expect(await big.next("error")).toMatchObject({ code: "MESSAGE_TOO_LARGE" });
    expect((await big.closed).code).toBe(1009);
    const token = "t".repeat(4096); // the largest token a hello carries
    const fits = track(await Client.open(`${server.wsUrl}/ws/visitor`));
    fits.send({ t: "hello", v: 1, groupId: "demo", client: "test", visitorId: "v-1", token, name: "n".repeat(256) });
    expect(await fits.next("error")).toMatchObject({ code: "TOKEN_INVALID" }); // read, verified and refused on its merits
  });

  it("closes a client that keeps the server busier than its share (huge arrays, floods of frames), and only that client", async () => {
    const { stillFlowing } = await setup({ connectionCpuMsPerS: 20 });
    const flooder = track(await visitor(server));
    const wide = `{"t":"frames","seq":1,"events":[${Array(600_000).fill("0").join(",")}]}`; // ~1.2 MB of numbers
    for (let i = 0; i < 200 && flooder.socket.readyState === flooder.socket.OPEN; i++) {
      flooder.send(wide);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await flooder.next("error", (m) => m.code === "BUDGET_EXCEEDED", 30_000)).toBeTruthy();
    expect((await flooder.closed).code).toBe(1008);
    await stillFlowing();
  }, 60_000);
});
