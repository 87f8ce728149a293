import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp } from "../../server/app";
import { hashPassword } from "../../server/passwords";
import { Store } from "../../server/store";
import { agent, Client, sharingVisitor, startServer, TEST_EXTENSION_ORIGIN, type TestServer } from "../helpers/server";

let server: TestServer | null = null;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server?.close();
  server = null;
});

async function setup(config = {}) {
  server = await startServer(config);
  server.addGroup("demo");
  server.addGroup("other");
  await server.addAgent("demo", "alice", PW);
  return server;
}

describe("connection guards", () => {
  it("refuses visitor sockets from web pages, accepts extension origins", async () => {
    const s = await setup();
    const evil = track(await Client.open(`${s.wsUrl}/ws/visitor`, { Origin: "https://evil.example" }));
    expect(await evil.next("error")).toMatchObject({ code: "FORBIDDEN_ORIGIN" });
    expect((await evil.closed).code).toBe(4403);
    const extension = track(await Client.open(`${s.wsUrl}/ws/visitor`, { Origin: "chrome-extension://abcdefghijklmnopabcdefghijklmnop" }));
    extension.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    expect(await extension.next("welcome")).toBeTruthy();
  });

  it("refuses agent sockets opened from another site, even with a valid sign-in", async () => {
    const s = await setup();
    const cookie = await s.signIn("alice", PW);
    const hijack = track(await Client.open(`${s.wsUrl}/ws/agent`, { Cookie: cookie, Origin: "https://evil.example" }));
    expect(await hijack.next("error")).toMatchObject({ code: "FORBIDDEN_ORIGIN" });
    const console = track(await Client.open(`${s.wsUrl}/ws/agent`, { Cookie: cookie, Origin: s.url }));
    console.send({ t: "hello", v: 1 });
    expect(await console.next("welcome")).toBeTruthy();
  });

  it("caps concurrent connections per IP address", async () => {
    const s = await setup({ maxConnectionsPerIp: 3 });
    const open = [];
    for (let i = 0; i < 3; i++) open.push(track(await Client.open(`${s.wsUrl}/ws/visitor`)));
    const fourth = track(await Client.open(`${s.wsUrl}/ws/visitor`));
    expect(await fourth.next("error")).toMatchObject({ code: "TOO_MANY_CONNECTIONS" });
    expect((await fourth.closed).code).toBe(4429);
    open[0]!.close();
    await open[0]!.closed;
    await new Promise((r) => setTimeout(r, 50));
    const again = track(await Client.open(`${s.wsUrl}/ws/visitor`));
    again.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    expect(await again.next("welcome")).toBeTruthy();
  });

  it("closes a connection that never says hello", async () => {
    const s = await setup({ helloTimeoutMs: 150 });
    const silent = track(await Client.open(`${s.wsUrl}/ws/visitor`));
    expect(await silent.next("error")).toMatchObject({ code: "HELLO_REQUIRED" });
    expect((await silent.closed).code).toBe(4408);
  });
});

describe("HTTP hardening", () => {
  it("rejects a sign-in posted from another site (CSRF)", async () => {
    const s = await setup();
    const forged = await s.app.inject({ method: "POST", url: "/api/login", payload: { username: "alice", password: PW }, headers: { origin: "https://evil.example" } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json()).toMatchObject({ code: "FORBIDDEN_ORIGIN" });
    const logout = await s.app.inject({ method: "POST", url: "/api/logout", headers: { origin: "https://evil.example" } });
    expect(logout.statusCode).toBe(403);
  });

  it("expires sign-ins and ends them on sign-out", async () => {
    const s = await setup({ agentSessionMs: 1 });
    const cookie = await s.signIn("alice", PW);
    await new Promise((r) => setTimeout(r, 20));
    expect((await s.app.inject({ url: "/api/me", headers: { cookie } })).statusCode).toBe(401);
  });

  it("signs out: the old cookie no longer works", async () => {
    const s = await setup();
    const cookie = await s.signIn("alice", PW);
    expect((await s.app.inject({ url: "/api/me", headers: { cookie } })).statusCode).toBe(200);
    await s.app.inject({ method: "POST", url: "/api/logout", headers: { cookie } });
    expect((await s.app.inject({ url: "/api/me", headers: { cookie } })).statusCode).toBe(401);
  });
});

describe("API tokens for CRM integrations", () => {
  it("authenticate HTTP and agent sockets, see only their group, and are stored hashed", async () => {
    const s = await setup();
    const alice = s.store.getAgentByUsername("alice")!;
    const token = "glm_test-token-value-0123456789";
    s.store.createApiToken(alice.id, token, "crm", Date.now());
    const raw = s.store.db.prepare("SELECT token_hash FROM api_tokens").all() as { token_hash: string }[];
    expect(raw.map((r) => r.token_hash)).not.toContain(token);

    const headers = { authorization: `Bearer ${token}` };
    expect((await s.app.inject({ url: "/api/me", headers })).json()).toMatchObject({ username: "alice", groupId: "demo" });
    expect((await s.app.inject({ url: "/api/me", headers: { authorization: "Bearer nope" } })).statusCode).toBe(401);

    const presence = track(await Client.open(`${s.wsUrl}/ws/visitor`));
    presence.send({ t: "hello", v: 1, groupId: "demo", client: "test", visitorId: "cust-1", role: "presence" });
    await presence.next("welcome");
    await expect.poll(async () => (await s.app.inject({ url: "/api/visitors/cust-1", headers })).json().online).toBe(true);
    const foreign = track(await Client.open(`${s.wsUrl}/ws/visitor`));
    foreign.send({ t: "hello", v: 1, groupId: "other", client: "test", visitorId: "cust-2", role: "presence" });
    await foreign.next("welcome");
    expect((await s.app.inject({ url: "/api/visitors/cust-2", headers })).json()).toMatchObject({ online: false });

    const socket = track(await Client.open(`${s.wsUrl}/ws/agent`, { Authorization: `Bearer ${token}` }));
    socket.send({ t: "hello", v: 1 });
    expect(await socket.next("welcome")).toMatchObject({ agent: { username: "alice" } });
  });
});

describe("revocation reaches open sockets", () => {
  /** An agent socket watching a live session, opened with `headers` (a sign-in cookie or an API token). */
  async function watching(s: TestServer, headers: Record<string, string>) {
    const { client: v, key } = await sharingVisitor(s);
    track(v);
    const socket = track(await Client.open(`${s.wsUrl}/ws/agent`, headers));
    socket.send({ t: "hello", v: 1 });
    await socket.next("welcome");
    socket.send({ t: "join", key });
    await socket.next("joined");
    return { socket, key, v };
  }
  const refusedAfter = async (socket: Client, key: string) => {
    // Closed by the server within the re-check period, or at the latest at its next action.
    expect(await socket.next("error", (m) => m.code === "NOT_AUTHORIZED", 15_000)).toBeTruthy();
    expect((await socket.closed).code).toBe(4401);
    expect(socket.received.some((m) => m.t === "joined" && m.sessionKey === key)).toBe(false);
  };

  it("sign-out closes the console's socket at once, and it no longer receives the session", async () => {
    const s = await setup();
    const cookie = await s.signIn("alice", PW);
    const { socket, key } = await watching(s, { Cookie: cookie, Origin: s.url });
    await s.app.inject({ method: "POST", url: "/api/logout", headers: { cookie } });
    await refusedAfter(socket, key);
  });

  it("an expired sign-in closes the socket at the next check", async () => {
    const s = await setup({ agentSessionMs: 1_500, agentRecheckMs: 200 });
    const cookie = await s.signIn("alice", PW);
    const { socket, key } = await watching(s, { Cookie: cookie, Origin: s.url });
    await refusedAfter(socket, key);
  });

  it("a revoked API token cannot join: the socket is closed before acting", async () => {
    const s = await setup({ agentRecheckMs: 60_000 }); // no timer help: the join itself checks
    const alice = s.store.getAgentByUsername("alice")!;
    const token = "glm_revoke-me-0123456789";
    s.store.createApiToken(alice.id, token, "crm", Date.now());
    const { socket, v } = await watching(s, { Authorization: `Bearer ${token}` });
    s.store.revokeApiTokens(alice.id);
    const { key } = await sharingVisitor(s);
    socket.send({ t: "join", key });
    await refusedAfter(socket, key);
    v.close();
  });

  it("a removed agent's socket is closed at the next check", async () => {
    const s = await setup({ agentRecheckMs: 200 });
    const cookie = await s.signIn("alice", PW);
    const { socket, key } = await watching(s, { Cookie: cookie, Origin: s.url });
    expect(s.store.deleteAgent(s.store.getAgentByUsername("alice")!.id)).toBe(true);
    await refusedAfter(socket, key);
  });
});

describe("deployment defaults", () => {
  it("sends nosniff, no-referrer and a strict policy on every console and API response, errors included", async () => {
    const s = await setup();
    for (const url of ["/console/", "/api/me", "/api/groups/demo", "/healthz", "/no/such/page"]) {
      const response = await s.app.inject({ url });
      expect(response.headers["x-content-type-options"], url).toBe("nosniff");
      expect(response.headers["referrer-policy"], url).toBe("no-referrer");
      expect(String(response.headers["content-security-policy"]), url).toContain("frame-ancestors 'none'");
      expect(response.headers["x-frame-options"], url).toBe("DENY");
    }
    expect(String((await s.app.inject({ url: "/api/me" })).headers["content-security-policy"])).toContain("default-src 'none'");
  });

  it("lets a configured CRM origin frame the console, and only the console", async () => {
    const s = await setup({ frameAncestors: "https://crm.example" });
    const console = await s.app.inject({ url: "/console/" });
    expect(String(console.headers["content-security-policy"])).toContain("frame-ancestors https://crm.example");
    expect(console.headers["x-frame-options"]).toBeUndefined();
    expect(String((await s.app.inject({ url: "/api/me" })).headers["content-security-policy"])).toContain("frame-ancestors 'none'");
  });

  it("does not sign demo tokens unless turned on (the quick start does)", async () => {
    const s = await setup({ demoTokens: 0 });
    expect((await s.app.inject({ url: "/demo/api/token?visitorId=ana" })).statusCode).toBe(404);
    const { DEFAULT_CONFIG } = await import("../../server/config");
    expect(DEFAULT_CONFIG.demoTokens).toBe(0);
  });

  it("answers only to allowed host names when a list is set, for HTTP and sockets", async () => {
    const s = await setup({ allowedHosts: "glimpse.example" });
    expect((await s.app.inject({ url: "/healthz", headers: { host: "glimpse.example" } })).statusCode).toBe(200);
    const other = await s.app.inject({ url: "/healthz", headers: { host: "evil.example" } });
    expect(other.statusCode).toBe(421);
    expect(other.json()).toMatchObject({ code: "HOST_NOT_ALLOWED" });
    await expect(Client.open(`${s.wsUrl}/ws/visitor`)).rejects.toThrow(/421/); // Host: 127.0.0.1:<port>
    const named = track(await Client.open(`${s.wsUrl}/ws/visitor`, { Host: "glimpse.example" }));
    named.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    expect(await named.next("welcome")).toBeTruthy();
  });

  it("behind an appending proxy takes the address the proxy saw, not one the client wrote", async () => {
    const s = await setup({ trustProxy: 1, maxConnectionsPerIp: 1 });
    // The client forges a first entry; the proxy (one hop) appends the real address.
    const chain = (real: string) => ({ "X-Forwarded-For": `198.51.100.7, ${real}` });
    const first = track(await Client.open(`${s.wsUrl}/ws/visitor`, chain("203.0.113.1")));
    first.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    await first.next("welcome");
    // Same real address, another forged entry: still counted as the same client.
    const second = track(await Client.open(`${s.wsUrl}/ws/visitor`, { "X-Forwarded-For": `192.0.2.99, 203.0.113.1` }));
    expect(await second.next("error")).toMatchObject({ code: "TOO_MANY_CONNECTIONS" });
    // Another real address gets its own allowance.
    const third = track(await Client.open(`${s.wsUrl}/ws/visitor`, chain("203.0.113.2")));
    third.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    expect(await third.next("welcome")).toBeTruthy();
    // Sign-in limits use the same address: forged entries do not buy fresh attempts.
    const login = (forged: string) =>
      s.app.inject({ method: "POST", url: "/api/login", payload: { username: "alice", password: "wrong" }, headers: { "x-forwarded-for": `${forged}, 203.0.113.5` }, remoteAddress: "127.0.0.1" });
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login(`10.0.0.${i}`)).statusCode);
    expect(statuses.at(-1)).toBe(429);
  });
});

describe("retention", () => {
  it("deletes session metadata older than the retention period when the server starts", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glimpse-retention-"));
    const store = new Store(join(dir, "db.sqlite"));
    store.createGroup({ id: "demo", name: "Demo", keyLength: 6, secret: "s", requireVerified: false });
    store.auditStart({ id: 1, groupId: "demo", sessionKey: "111111", keyType: "random", site: "https://a.test", startedAt: Date.now() - 40 * 86_400_000 });
    store.auditStart({ id: 2, groupId: "demo", sessionKey: "222222", keyType: "random", site: "https://a.test", startedAt: Date.now() - 86_400_000 });
    const app = await buildApp({ store, config: { auditRetentionDays: 30 } });
    const keys = store.auditRows("demo").map((row) => row.sessionKey);
    expect(keys).toEqual(["222222"]);
    await app.close();
    store.close();
  });

  it("stores no page content: the audit row of a session carries metadata only", async () => {
    const s = await setup();
    const { client: v, key } = await sharingVisitor(s);
    track(v);
    const a = track(await agent(s, "alice", PW));
    a.send({ t: "join", key });
    await a.next("joined");
    v.send({ t: "page", url: "https://shop.test/secret-page", title: "Private title" });
    v.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: 1, data: { text: "planted-page-text" } }] });
    await a.next("frames");
    v.send({ t: "endSession" });
    await a.next("sessionEnded");
    const dump = JSON.stringify(s.store.db.prepare("SELECT * FROM session_audit").all());
    expect(dump).not.toContain("planted-page-text");
    expect(dump).not.toContain("Private title");
    expect(dump).not.toContain("secret-page");
  });
});

describe("TLS", () => {
  it("serves HTTPS and WSS with a given certificate, and marks cookies Secure", async () => {
    const dir = mkdtempSync(join(tmpdir(), "glimpse-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    const store = new Store(join(dir, "db.sqlite"));
    store.createGroup({ id: "demo", name: "Demo", keyLength: 6, secret: "s", requireVerified: false });
    store.createAgent("demo", "alice", await hashPassword(PW));
    const app = await buildApp({ store, config: { tlsCert: cert, tlsKey: key } });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const port = (app.server.address() as { port: number }).port;
    const insecure = new HttpsAgent({ rejectUnauthorized: false });
    const login = await new Promise<{ status: number; cookie: string }>((resolve, reject) => {
      const body = JSON.stringify({ username: "alice", password: PW });
      const req = httpsRequest({ host: "127.0.0.1", port, path: "/api/login", method: "POST", agent: insecure, headers: { "content-type": "application/json" } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, cookie: String(res.headers["set-cookie"] ?? "") });
      });
      req.on("error", reject);
      req.end(body);
    });
    expect(login.status).toBe(200);
    expect(login.cookie).toMatch(/Secure/);
    const socket = new WebSocket(`wss://127.0.0.1:${port}/ws/visitor`, { rejectUnauthorized: false, headers: { Origin: TEST_EXTENSION_ORIGIN } });
    const welcome = await new Promise<string>((resolve, reject) => {
      socket.on("open", () => socket.send(JSON.stringify({ t: "hello", v: 1, groupId: "demo", client: "test" })));
      socket.on("message", (data) => resolve(data.toString()));
      socket.on("error", reject);
    });
    expect(JSON.parse(welcome)).toMatchObject({ t: "welcome" });
    socket.close();
    await app.close();
    store.close();
  });
});
