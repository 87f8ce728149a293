/**
 * The store contract: what the server relies on from its durable tables, run against the
 * embedded SQLite file and a real PostgreSQL server (Debian's, started by the test).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { PgStore } from "../../server/pg-store";
import { newAuditId, Store, type LiveSessionRow, type StoreApi } from "../../server/store";
import { buildApp } from "../../server/app";
import { hashPassword } from "../../server/passwords";
import { startPostgres, usePostgres } from "../helpers/postgres";
import { agent, Client, sharingVisitor, type TestServer } from "../helpers/server";

const postgres = usePostgres();

interface Kind {
  name: string;
  /** A fresh, empty store, and how to open the same database again (as a restart or another node does). */
  fresh(): Promise<{ store: StoreApi; reopen: () => Promise<StoreApi> }>;
}

const KINDS: Kind[] = [
  {
    name: "SQLite",
    async fresh() {
      const dir = mkdtempSync(join(tmpdir(), "glimpse-store-"));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      const path = join(dir, "glimpse.db");
      return { store: new Store(path), reopen: async () => new Store(path) };
    },
  },
  {
    name: "PostgreSQL",
    async fresh() {
      const url = await postgres().database();
      return { store: await PgStore.open(url), reopen: () => PgStore.open(url) };
    },
  },
];

const cleanups: (() => unknown)[] = [];
const opened: StoreApi[] = [];
afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

const group = (id: string, requireVerified = false) => ({ id, name: `Group ${id}`, keyLength: 6, secret: `secret-${id}`, requireVerified });
const HOUR = 3_600_000;

describe.each(KINDS)("store on $name", (kind) => {
  async function open() {
    const { store, reopen } = await kind.fresh();
    opened.push(store);
    return {
      store,
      reopen: async () => {
        const again = await reopen();
        opened.push(again);
        return again;
      },
    };
  }

  it("keeps groups, with their secret and whether visitors must be verified", async () => {
    const { store } = await open();
    expect(await store.ping()).toBe(true);
    await store.createGroup(group("b"));
    await store.createGroup(group("a", true));
    expect(await store.getGroup("a")).toEqual({ id: "a", name: "Group a", keyLength: 6, secret: "secret-a", requireVerified: true });
    expect(await store.getGroup("missing")).toBeNull();
    await store.setRequireVerified("a", false);
    expect((await store.getGroup("a"))!.requireVerified).toBe(false);
    expect((await store.listGroups()).map((g) => g.id)).toEqual(["a", "b"]);
    await expect(Promise.resolve().then(() => store.createGroup(group("a")))).rejects.toThrow();
  });

  it("signs agents in by token until it expires or is deleted, and never stores the token itself", async () => {
    const { store } = await open();
    await store.createGroup(group("g"));
    const id = await store.createAgent("g", "alice", "hash-of-alice");
    expect(typeof id).toBe("number");
    expect(await store.countAgents()).toBe(1);
    await expect(Promise.resolve().then(() => store.createAgent("g", "alice", "again"))).rejects.toThrow();
    const alice = { id, groupId: "g", username: "alice", passwordHash: "hash-of-alice", displayName: "" };
    expect(await store.getAgentByUsername("alice")).toEqual(alice);
    expect(await store.getAgentByUsername("bob")).toBeNull();
    const now = Date.now();
    await store.createAgentSession(id, "sign-in-token", now + HOUR);
    expect(await store.agentForToken("sign-in-token", now)).toEqual(alice);
    expect(await store.agentForToken("sign-in-token", now + 2 * HOUR)).toBeNull(); // expired
    expect(await store.agentForToken("another-token", now)).toBeNull();
    await store.deleteAgentSession("sign-in-token");
    expect(await store.agentForToken("sign-in-token", now)).toBeNull();
  });

  it("keeps API tokens until revoked, and removing an agent takes its sign-ins and tokens with it", async () => {
    const { store } = await open();
    await store.createGroup(group("g"));
    const alice = await store.createAgent("g", "alice", "h");
    const bob = await store.createAgent("g", "bob", "h");
    await store.createApiToken(alice, "glm_alice_1", "crm", Date.now());
    await store.createApiToken(alice, "glm_alice_2", "crm", Date.now());
    await store.createApiToken(bob, "glm_bob", "crm", Date.now());
    expect((await store.agentForApiToken("glm_alice_1"))?.username).toBe("alice");
    expect(await store.revokeApiTokens(alice)).toBe(2);
    expect(await store.agentForApiToken("glm_alice_2")).toBeNull();
    await store.createAgentSession(bob, "bob-sign-in", Date.now() + HOUR);
    expect(await store.deleteAgent(bob)).toBe(true);
    expect(await store.deleteAgent(bob)).toBe(false);
    expect(await store.agentForApiToken("glm_bob")).toBeNull();
    expect(await store.agentForToken("bob-sign-in", Date.now())).toBeNull();
    expect(await store.countAgents()).toBe(1);
  });

  it("audits sessions: newest first per group, control events in order, ended with reason and agents", async () => {
    const { store } = await open();
    const start = Date.now();
    const ids = [newAuditId(), newAuditId(), newAuditId()];
    await store.auditStart({ id: ids[0]!, groupId: "g", sessionKey: "111111", keyType: "random", site: "https://a.test", startedAt: start });
    await store.auditStart({ id: ids[1]!, groupId: "g", sessionKey: "visitor-7", keyType: "visitor", site: "https://a.test", startedAt: start + 1 });
    await store.auditStart({ id: ids[2]!, groupId: "other", sessionKey: "222222", keyType: "random", site: "https://b.test", startedAt: start + 2 });
    for (const event of ["control_asked", "control_granted", "control_suspended", "control_granted", "control_released"]) {
      await store.auditEvent(ids[0]!, start + 10, "alice", event);
    }
    await store.auditEnd(ids[0]!, start + 60_000, "agent_ended", ["alice", "bob"]);
    const rows = await store.auditRows("g");
    expect(rows.map((row) => row.sessionKey)).toEqual(["visitor-7", "111111"]);
    expect(rows[1]).toEqual({
      id: ids[0],
      groupId: "g",
      sessionKey: "111111",
      keyType: "random",
      site: "https://a.test",
      startedAt: start,
      endedAt: start + 60_000,
      endReason: "agent_ended",
      agents: "alice,bob",
    });
    expect(rows[0]).toMatchObject({ endedAt: null, endReason: null, agents: "" });
    expect((await store.auditEvents(ids[0]!)).map((e) => e.event)).toEqual(["control_asked", "control_granted", "control_suspended", "control_granted", "control_released"]);
    expect(await store.auditEvents(ids[1]!)).toEqual([]);
  });

  it("purges audit rows (and their events) older than the cutoff, and expired sign-ins", async () => {
    const { store } = await open();
    await store.createGroup(group("g"));
    const alice = await store.createAgent("g", "alice", "h");
    const now = Date.now();
    await store.createAgentSession(alice, "stale", now - 1);
    await store.createAgentSession(alice, "fresh", now + HOUR);
    const old = newAuditId();
    await store.auditStart({ id: old, groupId: "g", sessionKey: "1", keyType: "random", site: "s", startedAt: now - 40 * 24 * HOUR });
    await store.auditEvent(old, now - 40 * 24 * HOUR, "alice", "control_asked");
    await store.auditStart({ id: newAuditId(), groupId: "g", sessionKey: "2", keyType: "random", site: "s", startedAt: now - HOUR });
    expect(await store.purgeAudit(now - 30 * 24 * HOUR, now)).toBe(1);
    expect((await store.auditRows("g")).map((row) => row.sessionKey)).toEqual(["2"]);
    expect(await store.auditEvents(old)).toEqual([]);
    expect(await store.agentForToken("fresh", now)).not.toBeNull();
  });

  it("keeps live sessions across a reopen: saved, replaced by key, found, deleted", async () => {
    const { store, reopen } = await open();
    const row: LiveSessionRow = {
      groupId: "g",
      keyType: "random",
      key: "123456",
      site: "https://a.test",
      resumeHash: "hash",
      allowedAgent: null,
      agentsSeen: [],
      auditId: newAuditId(),
      expiresAt: Date.now() + HOUR,
    };
    await store.saveLiveSession(row);
    await store.saveLiveSession({ ...row, agentsSeen: ["alice"], expiresAt: null });
    await store.saveLiveSession({ ...row, keyType: "visitor", key: "visitor-1", allowedAgent: "alice" });
    const again = await reopen();
    expect(await again.liveSession("g", "random", "123456")).toEqual({ ...row, agentsSeen: ["alice"], expiresAt: null });
    expect(await again.liveSession("g", "visitor", "123456")).toBeNull();
    expect((await again.liveSessions()).map((s) => `${s.keyType}:${s.key}:${s.allowedAgent}`).sort()).toEqual(["random:123456:null", "visitor:visitor-1:alice"]);
    await again.deleteLiveSession("g", "random", "123456");
    expect(await store.liveSession("g", "random", "123456")).toBeNull();
    expect(await store.liveSessions()).toHaveLength(1);
  });

  it("keeps a group's SSO settings, and agents provisioned with their display name", async () => {
    const { store } = await open();
    await store.createGroup(group("g"));
    expect(await store.ssoOf("g")).toBeNull();
    const sso = { issuer: "https://id.acme.example", clientId: "glimpse", clientSecret: "s3cret", allowedDomains: ["acme.example", "acme.test"], requiredClaim: "", passwordsOff: false };
    await store.setSso("g", sso);
    expect(await store.ssoOf("g")).toEqual(sso);
    await store.setSso("g", { ...sso, allowedDomains: [], requiredClaim: "groups=support", passwordsOff: true });
    expect(await store.ssoOf("g")).toEqual({ ...sso, allowedDomains: [], requiredClaim: "groups=support", passwordsOff: true });
    const id = await store.createAgent("g", "ann@acme.example", "h", "Ann Example");
    expect(await store.getAgentByUsername("ann@acme.example")).toEqual({ id, groupId: "g", username: "ann@acme.example", passwordHash: "h", displayName: "Ann Example" });
    expect(await store.ssoSubjectOf(id)).toBeNull();
    await store.setSsoSubject(id, "https://id.acme.example|sub-1");
    expect(await store.ssoSubjectOf(id)).toBe("https://id.acme.example|sub-1");
    expect((await store.agentForSsoSubject("https://id.acme.example|sub-1"))?.id).toBe(id);
    expect(await store.agentForSsoSubject("https://id.acme.example|sub-2")).toBeNull();
    // One subject, one agent.
    const other = await store.createAgent("g", "bo@acme.example", "h");
    await expect(Promise.resolve().then(() => store.setSsoSubject(other, "https://id.acme.example|sub-1"))).rejects.toThrow();
    await store.setSso("g", null);
    expect(await store.ssoOf("g")).toBeNull();
  });

  it("keeps the origins that may embed the widget, and widget tokens bound to an origin until they expire or the origin is removed", async () => {
    const { store } = await open();
    await store.createGroup(group("g"));
    expect(await store.embedOriginsOf("g")).toEqual([]);
    await store.setEmbedOrigins("g", ["https://crm.example", "https://acme.my.salesforce.com"]);
    expect(await store.embedOriginsOf("g")).toEqual(["https://crm.example", "https://acme.my.salesforce.com"]);
    const alice = await store.createAgent("g", "alice", "h");
    const now = Date.now();
    await store.createWidgetToken(alice, "glw_token", "https://crm.example", now + HOUR);
    expect(await store.agentForWidgetToken("glw_token", "https://crm.example", now)).toMatchObject({ id: alice, username: "alice", groupId: "g" });
    expect(await store.agentForWidgetToken("glw_token", "https://evil.example", now)).toBeNull();
    expect(await store.agentForWidgetToken("glw_token", "https://crm.example", now + 2 * HOUR)).toBeNull();
    expect(await store.agentForWidgetToken("glw_other", "https://crm.example", now)).toBeNull();
    await store.setEmbedOrigins("g", ["https://acme.my.salesforce.com"]);
    expect(await store.agentForWidgetToken("glw_token", "https://crm.example", now)).toBeNull();
  });

  it("keeps a group's webhook endpoint, and an outbox whose due deliveries one claimant takes", async () => {
    const { store, reopen } = await open();
    await store.createGroup(group("g"));
    expect(await store.webhookOf("g")).toBeNull();
    await store.setWebhook("g", "https://crm.example/hook", "whsec_abc");
    expect(await store.webhookOf("g")).toEqual({ url: "https://crm.example/hook", secret: "whsec_abc" });
    const now = Date.now();
    await store.enqueueWebhook({ id: "msg_1", groupId: "g", body: '{"id":"msg_1"}', createdAt: now - 10 });
    await store.enqueueWebhook({ id: "msg_2", groupId: "g", body: '{"id":"msg_2"}', createdAt: now });
    const due = await store.dueWebhooks(now, 10);
    expect(due.map((row) => row.id)).toEqual(["msg_1", "msg_2"]);
    expect(due[0]).toEqual({ id: "msg_1", groupId: "g", body: '{"id":"msg_1"}', createdAt: now - 10, attempts: 0, nextAt: now - 10, lastError: null, gaveUp: false });
    // Two nodes read it as due; only the first claim wins.
    const other = await reopen();
    expect(await store.claimWebhook("msg_1", now - 10, now + 20_000)).toBe(true);
    expect(await other.claimWebhook("msg_1", now - 10, now + 20_000)).toBe(false);
    expect((await other.dueWebhooks(now, 10)).map((row) => row.id)).toEqual(["msg_2"]);
    await store.webhookFailed("msg_1", 1, now + 1_000, "HTTP 503", false);
    expect((await store.dueWebhooks(now + 1_000, 10)).map((row) => row.id)).toEqual(["msg_2", "msg_1"]);
    await store.webhookFailed("msg_1", 6, now, "HTTP 500", true);
    expect((await store.dueWebhooks(now + 60_000, 10)).map((row) => row.id)).toEqual(["msg_2"]);
    expect(await store.webhookRows("g")).toMatchObject([{ id: "msg_1", attempts: 6, gaveUp: true, lastError: "HTTP 500" }, { id: "msg_2", gaveUp: false }]);
    await store.webhookDelivered("msg_2");
    expect((await store.webhookRows("g")).map((row) => row.id)).toEqual(["msg_1"]);
    // Given-up deliveries go with the audit retention.
    await store.purgeAudit(now + 1, now);
    expect(await store.webhookRows("g")).toEqual([]);
    await store.setWebhook("g", "", "");
    expect(await store.webhookOf("g")).toBeNull();
  });

  it("migrates once: reopening keeps the data, and stores opened at the same time agree", async () => {
    const { store, reopen } = await open();
    await store.createGroup(group("kept"));
    const [a, b, c] = await Promise.all([reopen(), reopen(), reopen()]);
    for (const other of [a!, b!, c!]) expect((await other.getGroup("kept"))?.name).toBe("Group kept");
  });
});

describe("PostgreSQL store", () => {
  it("refuses a database it cannot reach with an error naming the reason, and leaves nothing open", async () => {
    const url = (await postgres().database()).replace(/\/[^/]+$/, "/no_such_database");
    await expect(PgStore.open(url)).rejects.toThrow(/no_such_database/);
  });

  it("runs several nodes' migrations against one empty database once (advisory lock)", async () => {
    const url = await postgres().database();
    const stores = await Promise.all([PgStore.open(url), PgStore.open(url), PgStore.open(url), PgStore.open(url)]);
    opened.push(...stores);
    await stores[0]!.createGroup(group("g"));
    expect((await stores[3]!.listGroups()).map((g) => g.id)).toEqual(["g"]);
  });
});

describe("a server on PostgreSQL when the database goes away", () => {
  it("keeps live sessions relaying, says NOT_READY to what needs the database, and recovers when it is back", async () => {
    const own = await startPostgres(); // its own server: this test stops it
    cleanups.push(() => own.stop());
    const store = await PgStore.open(await own.database());
    await store.createGroup(group("demo"));
    await store.createAgent("demo", "alice", await hashPassword("alice password 1"));
    const app = await buildApp({ store, config: { agentRecheckMs: 200 } });
    // Before the database stops: the app, then its store.
    cleanups.unshift(async () => {
      await app.close();
      await store.close();
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
    const server = {
      url,
      wsUrl: url.replace("http", "ws"),
      async signIn(username: string, password: string) {
        const response = await fetch(`${url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username, password }) });
        if (!response.ok) throw new Error(`sign-in: ${response.status}`);
        return response.headers.get("set-cookie")!.split(";")[0]!;
      },
    } as TestServer;
    const { client: v, key } = await sharingVisitor(server);
    const a = await agent(server, "alice", "alice password 1");
    cleanups.unshift(() => (v.close(), a.close()));
    a.send({ t: "join", key });
    await a.next("joined");

    const cookie = await server.signIn("alice", "alice password 1");
    await own.kill();
    // The session does not need the database: frames still reach the agent, past several re-checks of her sign-in.
    await new Promise((resolve) => setTimeout(resolve, 700));
    v.send({ t: "frames", seq: 1, events: [{ type: 3, timestamp: Date.now(), data: { text: "while the database is away" } }] });
    expect(await a.next("frames")).toMatchObject({ seq: 1 });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ code: "NOT_READY", checks: { database: "unreachable" } });
    const login = await fetch(`${url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "alice", password: "alice password 1" }) });
    expect(login.status).toBe(503);
    expect(await login.json()).toMatchObject({ code: "NOT_READY" });
    // A console reconnecting meanwhile is told to retry (503), not that its sign-in ended.
    await expect(Client.open(`${server.wsUrl}/ws/agent`, { Cookie: cookie })).rejects.toThrow(/503/);
    const late = await Client.open(`${server.wsUrl}/ws/visitor`);
    cleanups.unshift(() => late.close());
    late.send({ t: "hello", v: 1, groupId: "demo", client: "test" });
    expect(await late.next("error")).toMatchObject({ code: "NOT_READY" });
    // Ending the session while the database is away ends it for both; its audit end waits for the database.
    v.send({ t: "endSession" });
    expect(await a.next("sessionEnded")).toMatchObject({ reason: "visitor_stopped" });

    await own.start();
    await expect.poll(async () => (await fetch(`${url}/readyz`)).status, { interval: 200, timeout: 30_000 }).toBe(200);
    expect(await server.signIn("alice", "alice password 1")).toMatch(/^glimpse_agent=/);
    // Nothing the store was to record is lost: the end is written once the database answers again.
    await expect.poll(async () => (await store.auditRows("demo"))[0], { interval: 250, timeout: 60_000 }).toMatchObject({ sessionKey: key, endReason: "visitor_stopped" });
    const again = await sharingVisitor(server);
    again.client.close();
  });
});
