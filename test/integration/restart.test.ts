/**
 * A server restart mid-session (SIGTERM, then a new process on the same database) is a dropped
 * connection to both sides: the visitor resumes with its token, the agents join the same key again.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";

async function boot(config: Parameters<typeof startServer>[0] = {}) {
  server = await startServer(config);
  server.addGroup("demo");
  await server.addAgent("demo", "alice", PW);
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

const frame = (seq: number, text: string) => JSON.stringify({ t: "frames", seq, events: [{ type: 3, timestamp: Date.now(), data: { text } }] });

/** An agent's console socket with a sign-in cookie (kept across the restart, as the browser keeps it). */
async function agentWith(cookie: string) {
  const a = track(await Client.open(`${server.wsUrl}/ws/agent`, { Cookie: cookie }));
  a.send({ t: "hello", v: 1 });
  await a.next("welcome");
  return a;
}

/** A visitor sharing, and alice's console in the session (her cookie, to come back with). */
async function watchedSession() {
  const { client: v, key, resumeToken } = await sharingVisitor(server);
  track(v);
  const cookie = await server.signIn("alice", PW);
  const a = await agentWith(cookie);
  a.send({ t: "join", key });
  await a.next("joined");
  return { v, key, resumeToken, cookie, a };
}

/** alice's console after the restart, back in the session by its key. */
async function rejoin(cookie: string, key: string) {
  const again = await agentWith(cookie);
  again.send({ t: "join", key });
  return again;
}

/** The visitor's extension reconnecting after a drop: a new socket that resumes with the token. */
async function resume(key: string, token: string) {
  const v = track(await Client.open(`${server.wsUrl}/ws/visitor`));
  v.send({ t: "hello", v: 1, groupId: "demo", client: "test", resume: { sessionKey: key, token } });
  return v;
}

describe("a server restart mid-session", () => {
  beforeEach(() => boot());

  it("keeps the session: both sides are told to reconnect, the visitor resumes, the agent rejoins the same key and sees frames again", async () => {
    const { v, key, resumeToken, cookie, a } = await watchedSession();
    v.send(frame(1, "before"));
    await a.next("frames");

    await server.restart();
    // Closed with "service restart", not with a session end: neither side was told the session ended.
    expect(await v.closed).toMatchObject({ code: 1012 });
    expect(await a.closed).toMatchObject({ code: 1012 });
    expect([...v.received, ...a.received].some((m) => m.t === "sessionEnded")).toBe(false);

    const back = await resume(key, resumeToken);
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: key, count: 0 });
    const again = await rejoin(cookie, key); // the sign-in survived too
    expect(await again.next("joined")).toMatchObject({ sessionKey: key, keyType: "random", visitorConnected: true });
    // The agent has nothing to show: the visitor is asked for a full snapshot.
    await back.next("snapshotRequest");
    const after = frame(2, "after the restart");
    back.send(after);
    expect(JSON.stringify(await again.next("frames"))).toBe(after);

    // One audit row for the whole session, closed once when it really ends; nothing kept after.
    back.send({ t: "endSession" });
    expect(await again.next("sessionEnded")).toMatchObject({ reason: "visitor_stopped" });
    const audit = server.store.auditRows("demo");
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ sessionKey: key, endReason: "visitor_stopped", agents: "alice" });
    expect(server.store.liveSessions()).toEqual([]);
  });

  it("lets an agent who is back first wait for the visitor: told it is reconnecting, then given the page", async () => {
    const { key, resumeToken, cookie } = await watchedSession();
    await server.restart();

    const again = await rejoin(cookie, key);
    expect(await again.next("joined")).toMatchObject({ sessionKey: key, visitorConnected: false });
    const back = await resume(key, resumeToken);
    expect(await back.next("sessionResumed")).toMatchObject({ sessionKey: key, count: 1, agents: ["alice"] });
    expect(await again.next("visitorConnection")).toMatchObject({ connected: true });
    // The extension sends a fresh snapshot on every resume; it reaches the agent who waited.
    const snapshot = frame(2, "a fresh snapshot");
    back.send(snapshot);
    expect(JSON.stringify(await again.next("frames"))).toBe(snapshot);
  });

  it("takes a session back only for its own visitor: a wrong token is refused", async () => {
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    await server.restart();
    const thief = await resume(key, "x".repeat(43));
    expect(await thief.next("error")).toMatchObject({ code: "RESUME_FAILED" });
  });

  it("keeps a key nobody joined only until it would have expired", async () => {
    await server.close();
    await boot({ keyTtlMs: 1500 });
    const { client: v, key, resumeToken } = await sharingVisitor(server);
    track(v);
    await server.restart();
    const back = await resume(key, resumeToken);
    await back.next("sessionResumed");
    expect(await back.next("sessionEnded", () => true, 10_000)).toMatchObject({ reason: "expired" });
    expect(server.store.liveSessions()).toEqual([]);
  });

  it("ends a session whose visitor does not come back within the grace, and tells the agent who rejoined", async () => {
    await server.close();
    await boot({ resumeGraceMs: 1000 });
    const { key, cookie } = await watchedSession();
    await server.restart();
    const again = await rejoin(cookie, key);
    await again.next("joined");
    expect(await again.next("sessionEnded", () => true, 10_000)).toMatchObject({ reason: "visitor_left" });
    expect(server.store.auditRows("demo")[0]).toMatchObject({ sessionKey: key, endReason: "visitor_left" });
    expect(server.store.liveSessions()).toEqual([]);
  });

  it("stores what it needs to take a session back, and nothing of the page: no frames, no resume token", async () => {
    const { v, key, resumeToken, a } = await watchedSession();
    v.send(frame(1, "what the visitor reads: zebra-marmalade"));
    await a.next("frames");
    v.send({ t: "page", url: "https://shop.test/account/zebra-marmalade", title: "Account zebra-marmalade" });
    await a.next("page");
    const tables = server.store.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    const stored = JSON.stringify(tables.map(({ name }) => server.store.db.prepare(`SELECT * FROM ${name}`).all()));
    expect(stored).toContain(key);
    expect(stored).not.toContain("zebra-marmalade");
    expect(stored).not.toContain(resumeToken);
  });
});
