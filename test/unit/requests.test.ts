import { describe, expect, it } from "vitest";
import { ShareRequests, type RequestState, type ShareRequest } from "../../server/requests";

const TTL = 60_000;
const GRACE = 15_000;

/** The registry on a hand-driven clock: `advance` runs every timer that falls due, in order. */
function world() {
  let now = 1_000;
  let seq = 0;
  const timers: { at: number; run: () => void; live: boolean }[] = [];
  const changes: { id: string; from: RequestState; to: RequestState }[] = [];
  const requests = new ShareRequests({
    ttlMs: TTL,
    agentGraceMs: GRACE,
    now: () => now,
    schedule: (ms, run) => {
      const timer = { at: now + ms, run, live: true };
      timers.push(timer);
      return () => void (timer.live = false);
    },
    onChange: (request, previous) => changes.push({ id: request.id, from: previous, to: request.state }),
    randomId: () => `r${++seq}`,
  });
  const advance = (ms: number) => {
    const until = now + ms;
    for (;;) {
      const due = timers.filter((t) => t.live && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      now = due.at;
      due.live = false;
      due.run();
    }
    now = until;
  };
  const states = (id: string) => changes.filter((c) => c.id === id).map((c) => c.to);
  return { requests, advance, changes, states };
}

const alicePeer = {};
const bobPeer = {};

function ask(w: ReturnType<typeof world>, agent = "alice", peer: object = alicePeer, verified = false): ShareRequest {
  const result = w.requests.create("g", "v1", agent, peer, verified);
  if (!("request" in result)) throw new Error(`expected a request, got ${result.code}`);
  return result.request;
}

describe("ShareRequests: one request per visitor with a life of its own", () => {
  // Each row: what happens after the agent asks, and the states the request passes through.
  const lifecycles: { name: string; steps: (w: ReturnType<typeof world>, r: ShareRequest) => void; states: RequestState[]; open: boolean }[] = [
    {
      name: "shown, then accepted, then its session starts",
      steps: (w, r) => {
        w.requests.answer("g", "v1", r.id, "displayed", false);
        w.requests.answer("g", "v1", r.id, "accepted", false);
        w.requests.started(w.requests.redeem("g", r.ticket!)!);
      },
      states: ["pending", "displayed", "accepted", "started"],
      open: false,
    },
    {
      name: "declined",
      steps: (w, r) => void w.requests.answer("g", "v1", r.id, "declined", false),
      states: ["pending", "declined"],
      open: false,
    },
    {
      name: "cancelled while shown",
      steps: (w, r) => {
        w.requests.answer("g", "v1", r.id, "displayed", false);
        w.requests.cancel("g", "v1", "alice");
      },
      states: ["pending", "displayed", "cancelled"],
      open: false,
    },
    {
      name: "left unanswered until it expires",
      steps: (w, r) => {
        w.requests.answer("g", "v1", r.id, "displayed", false);
        w.advance(TTL);
      },
      states: ["pending", "displayed", "expired"],
      open: false,
    },
    {
      name: "accepted but the browser never starts the session",
      steps: (w, r) => {
        w.advance(TTL - 1);
        w.requests.answer("g", "v1", r.id, "accepted", false);
        w.advance(TTL);
      },
      states: ["pending", "accepted", "failed"],
      open: false,
    },
    {
      name: "not yet due one millisecond before the expiry",
      steps: (w) => w.advance(TTL - 1),
      states: ["pending"],
      open: true,
    },
  ];
  for (const row of lifecycles) {
    it(row.name, () => {
      const w = world();
      const request = ask(w);
      row.steps(w, request);
      expect(w.states(request.id)).toEqual(row.states);
      expect(w.requests.current("g", "v1") !== null).toBe(row.open);
    });
  }

  // Answers and withdrawals that cross each other: the first to arrive wins, the second gets a code.
  const races: { name: string; first: (w: ReturnType<typeof world>, r: ShareRequest) => unknown; second: (w: ReturnType<typeof world>, r: ShareRequest) => unknown; last: RequestState; secondResult: unknown }[] = [
    {
      name: "cancel, then an accept already on its way",
      first: (w) => w.requests.cancel("g", "v1", "alice"),
      second: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      last: "cancelled",
      secondResult: { code: "REQUEST_NOT_FOUND" },
    },
    {
      name: "accept, then a cancel already on its way (the session is starting; it is not withdrawn)",
      first: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      second: (w) => w.requests.cancel("g", "v1", "alice"),
      last: "accepted",
      secondResult: null,
    },
    {
      name: "expiry, then a late accept",
      first: (w) => w.advance(TTL),
      second: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      last: "expired",
      secondResult: { code: "REQUEST_NOT_FOUND" },
    },
    {
      name: "decline, then a second answer from another tab",
      first: (w, r) => w.requests.answer("g", "v1", r.id, "declined", false),
      second: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      last: "declined",
      secondResult: { code: "REQUEST_NOT_FOUND" },
    },
    {
      name: "accept, then a repeated accept",
      first: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      second: (w, r) => w.requests.answer("g", "v1", r.id, "accepted", false),
      last: "accepted",
      secondResult: { code: "INVALID_STATE" },
    },
  ];
  for (const row of races) {
    it(`race: ${row.name}`, () => {
      const w = world();
      const request = ask(w);
      row.first(w, request);
      expect(row.second(w, request)).toEqual(row.secondResult);
      expect(w.states(request.id).at(-1)).toBe(row.last);
    });
  }

  it("holds one request per visitor: the asker gets theirs back, another agent is told who asked", () => {
    const w = world();
    const first = ask(w);
    expect(w.requests.create("g", "v1", "alice", alicePeer, false)).toEqual({ request: first, created: false });
    expect(w.requests.create("g", "v1", "bob", bobPeer, false)).toEqual({ code: "REQUEST_PENDING", by: "alice" });
    expect(w.requests.cancel("g", "v1", "bob")).toBeNull(); // only the asker withdraws
    expect(w.requests.create("g", "v2", "bob", bobPeer, false)).toMatchObject({ created: true }); // another visitor is free
    expect(w.requests.create("other", "v1", "bob", bobPeer, false)).toMatchObject({ created: true }); // so is another group's
    w.requests.answer("g", "v1", first.id, "declined", false);
    expect(w.requests.create("g", "v1", "bob", bobPeer, false)).toMatchObject({ created: true, request: { agent: "bob" } });
  });

  it("answers only the request shown: an old request's id does not answer the new one", () => {
    const w = world();
    const old = ask(w);
    w.requests.cancel("g", "v1", "alice");
    const fresh = ask(w);
    expect(w.requests.answer("g", "v1", old.id, "accepted", false)).toEqual({ code: "REQUEST_NOT_FOUND" });
    expect(w.requests.current("g", "v1")).toMatchObject({ id: fresh.id, state: "pending" });
  });

  it("a request made while the visitor was verified takes an answer only from a verified browser", () => {
    const w = world();
    const request = ask(w, "alice", alicePeer, true);
    expect(w.requests.answer("g", "v1", request.id, "accepted", false)).toEqual({ code: "NOT_AUTHORIZED" });
    expect(w.requests.answer("g", "v1", request.id, "accepted", true)).toMatchObject({ request: { state: "accepted" } });
  });

  it("a ticket starts the session once, in its own group only", () => {
    const w = world();
    const request = ask(w);
    w.requests.answer("g", "v1", request.id, "accepted", false);
    const ticket = request.ticket!;
    expect(ticket.length).toBeGreaterThanOrEqual(40);
    expect(w.requests.redeem("other", ticket)).toBeNull();
    expect(w.requests.redeem("g", ticket)).toBe(request);
    expect(w.requests.redeem("g", ticket)).toBeNull();
  });

  it("a console that closes cancels its pending request after the grace, unless the same agent comes back", () => {
    const w = world();
    const request = ask(w);
    w.requests.agentGone(alicePeer);
    w.advance(GRACE - 1);
    const reloaded = {};
    expect(w.requests.reattach("g", "v1", "alice", reloaded)).toBe(request);
    w.advance(GRACE);
    expect(w.requests.current("g", "v1")).toMatchObject({ state: "pending", agentPeer: reloaded });

    w.requests.agentGone(reloaded);
    expect(w.requests.reattach("g", "v1", "bob", bobPeer)).toBeNull(); // another agent does not take it over
    w.advance(GRACE);
    expect(w.states(request.id).at(-1)).toBe("cancelled");
  });

  it("an accepted request outlives its console closing: the session starts and the agent rejoins it", () => {
    const w = world();
    const request = ask(w);
    w.requests.answer("g", "v1", request.id, "accepted", false);
    w.requests.agentGone(alicePeer);
    w.advance(GRACE);
    expect(w.requests.current("g", "v1")).toMatchObject({ state: "accepted", agentPeer: null });
    w.requests.started(w.requests.redeem("g", request.ticket!)!);
    expect(w.states(request.id)).toEqual(["pending", "accepted", "started"]);
  });
});

describe("ShareRequests across nodes: detach here, adopt there", () => {
  it("detaches an open request without a change of state, and its timers no longer run", () => {
    const w = world();
    const r = ask(w);
    w.requests.answer("g", "v1", r.id, "displayed", false);
    w.requests.detach(r);
    expect(w.requests.current("g", "v1")).toBeNull();
    w.advance(TTL * 2);
    expect(w.states(r.id)).toEqual(["pending", "displayed"]);
  });

  it("adopts a displayed request with its console: answered here, it expires at the time it had", () => {
    const there = world();
    const adopted = there.requests.adopt({ id: "r9", groupId: "g", visitorId: "v1", agent: "alice", verified: false, state: "displayed", expiresAt: 1_000 + TTL }, alicePeer);
    expect(there.requests.current("g", "v1")).toBe(adopted);
    expect(there.requests.answer("g", "v1", "r9", "accepted", false)).toMatchObject({ request: { state: "accepted" } });
    expect(there.requests.redeem("g", adopted.ticket!)).toBe(adopted);
    const other = world();
    const waiting = other.requests.adopt({ id: "r8", groupId: "g", visitorId: "v1", agent: "alice", verified: false, state: "pending", expiresAt: 1_000 + TTL / 2 }, alicePeer);
    other.advance(TTL / 2);
    expect(waiting.state).toBe("expired");
  });

  it("adopts a request whose console is not here yet: it waits the agent's grace for it, then is cancelled", () => {
    const w = world();
    const r = w.requests.adopt({ id: "r7", groupId: "g", visitorId: "v1", agent: "alice", verified: false, state: "pending", expiresAt: 1_000 + TTL }, null);
    w.advance(GRACE - 1);
    expect(w.requests.reattach("g", "v1", "alice", alicePeer)).toBe(r);
    w.advance(TTL / 2);
    expect(r.state).toBe("pending");
    const lost = world();
    const alone = lost.requests.adopt({ id: "r6", groupId: "g", visitorId: "v1", agent: "alice", verified: false, state: "pending", expiresAt: 1_000 + TTL }, null);
    lost.advance(GRACE);
    expect(alone.state).toBe("cancelled");
  });
});
