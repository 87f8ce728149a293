import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../../server/limits";
import { agent, Client, sharingVisitor, startServer, type TestServer } from "../helpers/server";

let server: TestServer;
const clients: Client[] = [];
const track = <T extends Client>(client: T) => (clients.push(client), client);
const PW = "correct horse battery";

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await server.close();
});

async function setup(limits = DEFAULT_LIMITS) {
  server = await startServer({}, { limits });
  server.addGroup("demo");
  for (const name of ["alice", "mallet", "mallory"]) await server.addAgent("demo", name, PW);
}

describe("guessing session keys", () => {
  it("answers thousands of random join attempts with RATE_LIMITED; none succeeds; a real agent still joins", async () => {
    await setup();
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const attacker = track(await agent(server, "mallet", PW));
    const ATTEMPTS = 3000;
    for (let i = 0; i < ATTEMPTS; i++) {
      let guess: string;
      do guess = String(Math.floor(Math.random() * 1e6)).padStart(6, "0");
      while (guess === key); // the assertion is about the limiter, not about luck
      attacker.send({ t: "join", key: guess });
    }
    const answers: { t: string; code?: unknown }[] = [];
    while (answers.length < ATTEMPTS) answers.push(await attacker.next("error", () => true, 10_000));
    const codes = answers.map((a) => a.code);
    expect(attacker.received.some((m) => m.t === "joined")).toBe(false);
    expect(codes.filter((c) => c === "KEY_NOT_FOUND").length).toBeLessThanOrEqual(DEFAULT_LIMITS.joinFailuresPerAgent + 1);
    expect(codes.filter((c) => c === "RATE_LIMITED").length).toBeGreaterThanOrEqual(ATTEMPTS - DEFAULT_LIMITS.joinFailuresPerAgent - 1);
    // Even the right key is refused while the attacker is blocked.
    attacker.send({ t: "join", key });
    expect(await attacker.next("error")).toMatchObject({ code: "RATE_LIMITED" });

    const alice = track(await agent(server, "alice", PW));
    alice.send({ t: "join", key });
    expect(await alice.next("joined")).toMatchObject({ sessionKey: key });
  });

  it("limits failures per key across agents", async () => {
    await setup({ ...DEFAULT_LIMITS, joinFailuresPerKey: 2 });
    const a = track(await agent(server, "mallet", PW));
    const b = track(await agent(server, "mallory", PW));
    for (let i = 0; i < 3; i++) {
      a.send({ t: "join", key: "424242" });
      expect((await a.next("error")).code).toBe("KEY_NOT_FOUND");
    }
    b.send({ t: "join", key: "424242" });
    expect(await b.next("error")).toMatchObject({ code: "RATE_LIMITED" });
    b.send({ t: "join", key: "424243" });
    expect(await b.next("error")).toMatchObject({ code: "KEY_NOT_FOUND" });
  });
});

describe("guessing passwords", () => {
  const login = (username: string, password: string) =>
    server.app.inject({ method: "POST", url: "/api/login", payload: { username, password }, headers: { origin: "http://localhost:80" } });

  it("locks a username out from an address after repeated failures, also for the right password, with Retry-After", async () => {
    await setup();
    const statuses: number[] = [];
    for (let i = 0; i < DEFAULT_LIMITS.loginFailuresPerUser + 2; i++) statuses.push((await login("alice", `wrong ${i}`)).statusCode);
    expect(statuses.slice(0, DEFAULT_LIMITS.loginFailuresPerUser)).toEqual(Array(DEFAULT_LIMITS.loginFailuresPerUser).fill(401));
    expect(statuses.at(-1)).toBe(429);
    const locked = await login("alice", PW);
    expect(locked.statusCode).toBe(429);
    expect(locked.json()).toMatchObject({ code: "RATE_LIMITED" });
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
    // Another agent signing in from the same address is not affected.
    expect((await login("mallory", PW)).statusCode).toBe(200);
  });

  it("counts a burst of wrong passwords before checking them: the right one sent right after does not sign in", async () => {
    await setup();
    // Ten wrong guesses at once, then the right password while they are being checked.
    const burst = Array.from({ length: 10 }, (_, i) => login("alice", `wrong ${i}`));
    const right = login("alice", PW);
    const statuses = (await Promise.all(burst)).map((r) => r.statusCode);
    expect((await right).statusCode).toBe(429);
    // No more passwords were checked than the limit allows (the rest were refused unchecked).
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(DEFAULT_LIMITS.loginFailuresPerUser);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(10 - DEFAULT_LIMITS.loginFailuresPerUser);
    // Still locked for the window, also for the right password sent later.
    expect((await login("alice", PW)).statusCode).toBe(429);
  });

  it("checks at most two passwords of one username at a time", async () => {
    await setup({ ...DEFAULT_LIMITS, loginFailuresPerUser: 100, loginFailuresPerIp: 100 });
    const statuses = (await Promise.all(Array.from({ length: 6 }, (_, i) => login("alice", `wrong ${i}`)))).map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(2 * 2); // two at a time; a later pair may start after the first ends
    expect(statuses).toContain(429);
    // Sequential honest attempts are never refused for concurrency.
    expect((await login("alice", PW)).statusCode).toBe(200);
  });
});

describe("fairness to honest agents", () => {
  it("an address blocked by one agent's guesses still lets another agent there join with the right key", async () => {
    await setup({ ...DEFAULT_LIMITS, joinFailuresPerIp: 3 });
    const { client: v, key } = await sharingVisitor(server);
    track(v);
    const mallet = track(await agent(server, "mallet", PW));
    for (let i = 0; i < 5; i++) {
      mallet.send({ t: "join", key: String(100_000 + i) });
      await mallet.next("error");
    }
    mallet.send({ t: "join", key });
    expect(await mallet.next("error")).toMatchObject({ code: "RATE_LIMITED" }); // the address is blocked for him
    const alice = track(await agent(server, "alice", PW)); // same address (127.0.0.1)
    alice.send({ t: "join", key });
    expect(await alice.next("joined")).toMatchObject({ sessionKey: key });
  });
});
