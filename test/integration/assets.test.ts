/** Carried assets over real sockets and HTTP: who may fetch them, limits, integrity, lifetime. */
import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ASSET_LIMITS } from "../../src/protocol";
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

const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** The asset messages the extension sends for one resource. */
function pieces(url: string, body: Buffer, mime: string) {
  const hash = sha(body);
  const count = Math.max(1, Math.ceil(body.length / ASSET_LIMITS.pieceBytes));
  return Array.from({ length: count }, (_, index) => ({
    t: "asset",
    url,
    hash,
    mime,
    size: body.length,
    index,
    count,
    data: body.subarray(index * ASSET_LIMITS.pieceBytes, (index + 1) * ASSET_LIMITS.pieceBytes).toString("base64"),
  }));
}

async function liveSession() {
  const { client: v, key } = await sharingVisitor(server);
  track(v);
  const a = track(await agent(server, "alice", password));
  a.send({ t: "join", key });
  await a.next("joined");
  return { v, a, key, cookie: await server.signIn("alice", password) };
}

const assetUrl = (key: string, url: string) => `${server.url}/api/sessions/${encodeURIComponent(key)}/assets?u=${encodeURIComponent(url)}`;

describe("carried assets", () => {
  it("serves a resource the visitor sent, in pieces, to an agent of the session, byte for byte", async () => {
    const { v, key, cookie } = await liveSession();
    const body = Buffer.alloc(ASSET_LIMITS.pieceBytes * 2 + 17, 3);
    for (const piece of pieces("https://shop.test/big.png", body, "image/png")) v.send(piece);
    const response = await fetch(assetUrl(key, "https://shop.test/big.png"), { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("image/png");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(Buffer.from(await response.arrayBuffer()).equals(body)).toBe(true);
  });

  it("waits for a resource the agent's view asks for before it has arrived", async () => {
    const { v, key, cookie } = await liveSession();
    const pending = fetch(assetUrl(key, "https://shop.test/late.png"), { headers: { cookie } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const piece of pieces("https://shop.test/late.png", Buffer.from("late image"), "image/png")) v.send(piece);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("late image");
  });

  it("links a second URL with the same content to the copy already sent (sent once per content)", async () => {
    const { v, key, cookie } = await liveSession();
    const body = Buffer.from("same bytes");
    for (const piece of pieces("https://shop.test/a.png", body, "image/png")) v.send(piece);
    v.send({ t: "asset", url: "https://cdn.test/a.png", hash: sha(body), mime: "image/png", size: body.length, index: 0, count: 0, data: "" });
    const response = await fetch(assetUrl(key, "https://cdn.test/a.png"), { headers: { cookie } });
    expect(await response.text()).toBe("same bytes");
  });

  it("refuses a resource whose bytes do not match its hash with BAD_MESSAGE; the session goes on", async () => {
    const { v, a, key, cookie } = await liveSession();
    const [piece] = pieces("https://shop.test/x.png", Buffer.from("real"), "image/png");
    v.send({ ...piece, data: Buffer.from("fake").toString("base64") });
    expect(await v.next("error")).toMatchObject({ code: "BAD_MESSAGE" });
    const response = await fetch(assetUrl(key, "https://shop.test/x.png"), { headers: { cookie } });
    expect(response.headers.get("x-glimpse-asset")).toBe("unreachable");
    v.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: Date.now() }] });
    await a.next("frames");
  });

  it("serves only the agents in the session: not a signed-out caller, another agent of the group, or another group", async () => {
    const { v, key } = await liveSession();
    for (const piece of pieces("https://shop.test/p.png", Buffer.from("png"), "image/png")) v.send(piece);
    expect((await fetch(assetUrl(key, "https://shop.test/p.png"))).status).toBe(401);
    const bob = await server.signIn("bob", password);
    expect((await fetch(assetUrl(key, "https://shop.test/p.png"), { headers: { cookie: bob } })).status).toBe(404);
    const mallory = await server.signIn("mallory", "correct horse battery");
    expect((await fetch(assetUrl(key, "https://shop.test/p.png"), { headers: { cookie: mallory } })).status).toBe(404);
  });

  it("tells the agents about a resource that was not carried and serves a placeholder for it", async () => {
    const { v, a, key, cookie } = await liveSession();
    v.send({ t: "assetSkipped", url: "https://shop.test/huge.png", reason: "too_large" });
    expect(await a.next("assetSkipped")).toMatchObject({ url: "https://shop.test/huge.png", reason: "too_large" });
    const response = await fetch(assetUrl(key, "https://shop.test/huge.png"), { headers: { cookie } });
    expect(response.headers.get("content-type")).toContain("image/svg+xml");
    expect(response.headers.get("x-glimpse-asset")).toBe("too_large");
    expect(await response.text()).toContain("too large");
  });

  it("holds a session's assets only up to the session cap, then tells the agents", async () => {
    const { v, a } = await liveSession();
    const header = { t: "asset", mime: "image/png", index: 0, count: 400, data: "" };
    // Two announced assets that together pass the cap: the second is refused before any byte of it is kept.
    v.send({ ...header, url: "https://shop.test/1.png", hash: "1".repeat(64), size: ASSET_LIMITS.assetBytes, data: "AAAA" });
    for (let i = 2; i <= 9; i++) v.send({ ...header, url: `https://shop.test/${i}.png`, hash: String(i).repeat(64), size: ASSET_LIMITS.assetBytes, data: "AAAA" });
    expect(await a.next("assetSkipped")).toMatchObject({ url: "https://shop.test/9.png", reason: "session_cap" });
  });

  it("serves an SVG so that it cannot run script even when opened on its own, and rewrites a stylesheet's references", async () => {
    const { v, key, cookie } = await liveSession();
    for (const piece of pieces("https://shop.test/i.svg", Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"), "image/svg+xml")) v.send(piece);
    for (const piece of pieces("https://cdn.test/css/s.css", Buffer.from(".a{background:url(../img/b.png)}"), "text/css")) v.send(piece);
    const svg = await fetch(assetUrl(key, "https://shop.test/i.svg"), { headers: { cookie } });
    expect(svg.headers.get("content-security-policy")).toContain("sandbox");
    expect(svg.headers.get("content-security-policy")).toContain("default-src 'none'");
    const css = await fetch(assetUrl(key, "https://cdn.test/css/s.css"), { headers: { cookie } });
    expect(await css.text()).toBe(`.a{background:url("assets?u=${encodeURIComponent("https://cdn.test/img/b.png")}")}`);
  });

  it("drops everything with the session: after it ends, nothing is served", async () => {
    const { v, key, cookie } = await liveSession();
    for (const piece of pieces("https://shop.test/p.png", Buffer.from("png"), "image/png")) v.send(piece);
    expect((await fetch(assetUrl(key, "https://shop.test/p.png"), { headers: { cookie } })).status).toBe(200);
    v.send({ t: "endSession" });
    await v.next("sessionEnded");
    const after = await fetch(assetUrl(key, "https://shop.test/p.png"), { headers: { cookie } });
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({ code: "ASSET_NOT_FOUND" });
  });

  it("serves the console with a CSP that lets the agent's browser load only this server, and no framing", async () => {
    const response = await fetch(`${server.url}/console/`);
    const csp = response.headers.get("content-security-policy") ?? "";
    for (const directive of ["default-src 'self'", "img-src 'self' data: blob:", "font-src 'self' data:", "connect-src 'self'", "frame-ancestors 'none'", "script-src 'self'"]) expect(csp).toContain(directive);
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  });
});
