import { describe, expect, it } from "vitest";
import type { Identity } from "../../src/identity";
import {
  initialPresence,
  LAST_TAB_GRACE_MS,
  transition,
  type PresenceEffect,
  type PresenceEvent,
  type PresenceState,
  type ShownRequest,
} from "../../src/presence/machine";

const SHOP = "https://shop.test";
const OTHER = "https://other.test";
const ana: Identity = { visitorId: "ana@example.com", token: "jwt-1", name: null, email: null, source: "bridge" };

/** Run events from a state; collect every effect in order. */
function run(state: PresenceState, events: PresenceEvent[]): { state: PresenceState; effects: PresenceEffect[] } {
  const effects: PresenceEffect[] = [];
  for (const event of events) {
    const result = transition(state, event);
    state = result.state;
    effects.push(...result.effects);
  }
  return { state, effects };
}

const kinds = (effects: PresenceEffect[]) => effects.filter((e) => e.type !== "changed").map((e) => e.type);
const opened = (tabId: number, origin = SHOP): PresenceEvent => ({ type: "tabOpened", tabId, origin, url: `${origin}/p`, title: "Page" });
const focused = (tabId: number, now: number): PresenceEvent => ({ type: "tabPage", tabId, url: `${SHOP}/p${tabId}`, title: `Tab ${tabId}`, visible: true, now });
const linked = (identities: Record<string, Identity> = { [SHOP]: ana }): PresenceEvent => ({ type: "identities", identities });

/** A visitor logged in to the shop, with the presence socket (number 1) welcomed. */
function online(shown: ShownRequest | null = null, tabs = [7]): PresenceState {
  return run(initialPresence(shown), [linked(), ...tabs.map((t) => opened(t)), ...tabs.map((t, i) => focused(t, 100 + i)), { type: "welcome", socket: 1, verified: true, groupName: "Shop" }]).state;
}

describe("presence machine: when presence is held", () => {
  it("opens presence for a linked site's tab, with the token, and reports the focused page once welcomed", () => {
    const { state, effects } = run(initialPresence(), [linked(), opened(7), { type: "welcome", socket: 1, verified: true, groupName: "Shop" }]);
    expect(effects[0]).toEqual({ type: "connect", socket: 1, identity: ana });
    expect(effects).toContainEqual({ type: "send", message: { t: "presence", url: `${SHOP}/p`, title: "Page", visible: false } });
    expect(state).toMatchObject({ link: "online", verified: true, target: { origin: SHOP } });
  });

  it("holds nothing for a tab of a site without a linked visitor", () => {
    const { state, effects } = run(initialPresence(), [linked(), opened(3, OTHER)]);
    expect(effects).toEqual([]);
    expect(state.link).toBe("off");
  });

  // Closing tabs: each row is what happens after the visitor's only shop tab (7) closes.
  const closing: { name: string; then: PresenceEvent[]; link: PresenceState["link"]; effects: PresenceEffect["type"][] }[] = [
    { name: "within the grace nothing changes yet", then: [], link: "online", effects: ["schedule"] },
    { name: "a reload (the tab comes back within the grace) keeps the same socket", then: [opened(7)], link: "online", effects: ["schedule", "cancel", "send"] },
    { name: "the grace running out ends presence", then: [{ type: "graceOver" }], link: "off", effects: ["schedule", "disconnect"] },
    { name: "a logout during the grace ends it at once", then: [linked({})], link: "off", effects: ["schedule", "cancel", "disconnect"] },
  ];
  for (const row of closing) {
    it(`last tab closed: ${row.name}`, () => {
      const { state, effects } = run(online(), [{ type: "tabClosed", tabId: 7 }, ...row.then]);
      expect(state.link).toBe(row.link);
      expect(kinds(effects)).toEqual(row.effects);
    });
  }

  it("a logout with the tab still open ends presence at once; a login again opens a new socket", () => {
    const out = run(online(), [linked({})]);
    expect(kinds(out.effects)).toEqual(["disconnect"]);
    expect(out.state).toMatchObject({ link: "off", target: null });
    const back = run(out.state, [linked()]);
    expect(back.effects[0]).toEqual({ type: "connect", socket: 2, identity: ana });
  });

  it("a fresh token (initVisitor again) reconnects with it", () => {
    const { effects } = run(online(), [linked({ [SHOP]: { ...ana, token: "jwt-2" } })]);
    expect(kinds(effects)).toEqual(["disconnect", "connect"]);
    expect(effects.find((e) => e.type === "connect")).toMatchObject({ identity: { token: "jwt-2" } });
  });

  // The socket closing: what the server said before decides what happens next.
  const closes: { name: string; error: PresenceEvent[]; link: PresenceState["link"]; next: PresenceEffect | null }[] = [
    { name: "a token past its age goes on unverified at once", error: [{ type: "message", socket: 1, message: { t: "error", code: "TOKEN_INVALID" } }], link: "connecting", next: { type: "connect", socket: 2, identity: { ...ana, token: null } } },
    { name: "a group requiring verification shows the error", error: [{ type: "message", socket: 1, message: { t: "error", code: "VERIFICATION_REQUIRED" } }], link: "error", next: null },
    { name: "a verified browser elsewhere: retry later", error: [{ type: "message", socket: 1, message: { t: "error", code: "VISITOR_VERIFIED_ELSEWHERE" } }], link: "connecting", next: { type: "schedule", timer: "retry", ms: 1_000 } },
    { name: "a dropped network: retry with backoff", error: [], link: "connecting", next: { type: "schedule", timer: "retry", ms: 1_000 } },
  ];
  for (const row of closes) {
    it(`socket closed: ${row.name}`, () => {
      const { state, effects } = run(online(), [...row.error, { type: "closed", socket: 1, jitter: 0 }]);
      expect(state.link).toBe(row.link);
      expect(effects.filter((e) => e.type !== "changed")).toEqual(row.next ? [row.next] : []);
    });
  }

  it("backs off on repeated drops and reconnects when the timer fires; a stale socket's events are ignored", () => {
    let { state } = run(online(), [{ type: "closed", socket: 1, jitter: 0 }]);
    const again = run(state, [{ type: "retry" }, { type: "closed", socket: 2, jitter: 0 }]);
    expect(again.effects).toContainEqual({ type: "schedule", timer: "retry", ms: 2_000 });
    state = run(again.state, [{ type: "retry" }]).state;
    expect(state.socket).toBe(3);
    const stale = run(state, [{ type: "welcome", socket: 1, verified: true, groupName: "x" }, { type: "closed", socket: 2, jitter: 0 }]);
    expect(stale.effects).toEqual([]);
    expect(stale.state.link).toBe("connecting");
  });

  it("a newer browser of the same visitor blurs this one", () => {
    const { state } = run(online(), [{ type: "message", socket: 1, message: { t: "presenceBlur" } }]);
    expect(state.link).toBe("blurred");
  });
});

describe("presence machine: the share request's dialog", () => {
  const ask = (id = "r1", agent = "alice"): PresenceEvent => ({ type: "message", socket: 1, message: { t: "shareRequest", id, agent } });

  it("shows the request in the most recently focused tab and keeps it there when re-sent", () => {
    const { state, effects } = run(online(null, [7, 8]), [ask(), focused(7, 500), ask()]);
    expect(effects.filter((e) => e.type === "showTerms")).toEqual([
      { type: "showTerms", tabId: 8, agent: "alice", groupName: "Shop" },
      { type: "showTerms", tabId: 8, agent: "alice", groupName: "Shop" },
    ]);
    // Stored with the tab's site and the group name, so a restarted worker can still say who asks
    // and start the session for the right site.
    expect(state.shown).toEqual({ id: "r1", tabId: 8, agent: "alice", origin: SHOP, groupName: "Shop" });
  });

  it("takes an answer only from the tab that was asked, takes its dialog away, and starts the session only on the accepted request's ticket", () => {
    const { state, effects } = run(online(null, [7, 8]), [
      ask(),
      { type: "answer", tabId: 7, status: "accepted" },
      { type: "message", socket: 1, message: { t: "requestAccepted", id: "r1", ticket: "t-early" } },
      { type: "answer", tabId: 8, status: "accepted" },
      { type: "message", socket: 1, message: { t: "requestAccepted", id: "other", ticket: "t-other" } },
      { type: "message", socket: 1, message: { t: "requestAccepted", id: "r1", ticket: "t-1" } },
    ]);
    expect(effects.filter((e) => e.type === "send" && e.message.t === "requestAnswer")).toEqual([
      { type: "send", message: { t: "requestAnswer", id: "r1", status: "accepted" } },
    ]);
    expect(effects.filter((e) => e.type === "accepted")).toEqual([{ type: "accepted", tabId: 8, origin: SHOP, ticket: "t-1" }]);
    // The answered dialog's frame is taken out of the asked tab (the frame cannot remove itself).
    expect(effects.filter((e) => e.type === "hideTerms")).toEqual([{ type: "hideTerms", tabId: 8 }]);
    expect(state.shown).toBeNull();
  });

  it("withdraws the dialog when the request ends (cancel, expiry), and ignores the end of another request", () => {
    const { state, effects } = run(online(), [ask(), { type: "message", socket: 1, message: { t: "requestEnded", id: "old" } }, { type: "message", socket: 1, message: { t: "requestEnded", id: "r1" } }]);
    expect(effects.filter((e) => e.type === "hideTerms")).toEqual([{ type: "hideTerms", tabId: 7 }]);
    expect(effects.filter((e) => e.type === "saveShown").at(-1)).toEqual({ type: "saveShown", shown: null });
    expect(state.shown).toBeNull();
  });

  it("worker restart with the dialog open: the answer waits for the socket, and the server's re-send does not bring the dialog back", () => {
    // A new worker: the shown request comes from storage.session; the tab's port reconnects.
    const restarted = run(initialPresence({ id: "r1", tabId: 7, agent: "alice", origin: SHOP }), [linked(), opened(7), { type: "answer", tabId: 7, status: "accepted" }]);
    expect(restarted.effects.some((e) => e.type === "send")).toBe(false);
    const { effects } = run(restarted.state, [
      { type: "welcome", socket: 1, verified: true, groupName: "Shop" },
      ask("r1"), // the server re-sends the open request before it reads the answer
      { type: "message", socket: 1, message: { t: "requestAccepted", id: "r1", ticket: "t-1" } },
    ]);
    expect(effects).toContainEqual({ type: "send", message: { t: "requestAnswer", id: "r1", status: "accepted" } });
    expect(effects.some((e) => e.type === "showTerms")).toBe(false);
    expect(effects).toContainEqual({ type: "accepted", tabId: 7, origin: SHOP, ticket: "t-1" });
  });

  it("worker restart: an Accept that comes before the tab's page script has reconnected still starts the session for the tab's site", () => {
    // Found by the e2e (1 run in 3): the answer comes from the consent frame, the tab from its page
    // script's port, in either order; the session then went out without the visitor's identity (NOT_LINKED).
    const restarted = run(initialPresence({ id: "r1", tabId: 7, agent: "alice", origin: SHOP }), [linked(), { type: "answer", tabId: 7, status: "accepted" }, opened(7)]);
    const { effects } = run(restarted.state, [
      { type: "welcome", socket: 1, verified: true, groupName: "Shop" },
      { type: "message", socket: 1, message: { t: "requestAccepted", id: "r1", ticket: "t-1" } },
    ]);
    expect(effects).toContainEqual({ type: "send", message: { t: "requestAnswer", id: "r1", status: "accepted" } });
    expect(effects).toContainEqual({ type: "accepted", tabId: 7, origin: SHOP, ticket: "t-1" });
  });

  it("reports displayed only while connected (it is not worth a queue), declined and accepted always", () => {
    const down = run(online(), [ask(), { type: "closed", socket: 1, jitter: 0 }, { type: "answer", tabId: 7, status: "displayed" }]);
    expect(down.state.unsent).toBeNull();
    expect(down.state.shown?.id).toBe("r1");
    const declined = run(down.state, [{ type: "answer", tabId: 7, status: "declined" }]);
    expect(declined.state.unsent).toEqual({ id: "r1", status: "declined" });
  });

  it("shows nothing when no tab of the site is open", () => {
    const { state, effects } = run(online(), [{ type: "tabClosed", tabId: 7 }, ask()]);
    expect(effects.some((e) => e.type === "showTerms")).toBe(false);
    expect(state.shown).toBeNull();
  });

  it("the grace is the documented 3 s", () => {
    const { effects } = run(online(), [{ type: "tabClosed", tabId: 7 }]);
    expect(effects).toContainEqual({ type: "schedule", timer: "grace", ms: LAST_TAB_GRACE_MS });
    expect(LAST_TAB_GRACE_MS).toBe(3_000);
  });
});
