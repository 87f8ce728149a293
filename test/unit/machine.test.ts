import { describe, expect, it } from "vitest";
import { INITIAL_STATE, transition, type Effect, type VisitorEvent, type VisitorState } from "../../src/visitor/machine";

const now = 1_000;
const starting: VisitorState = { status: "starting", tabId: 7, site: "https://shop.test", keyType: "random" };
const live: VisitorState = {
  status: "live",
  tabId: 7,
  site: "https://shop.test",
  keyType: "random",
  sessionKey: "123456",
  resumeToken: "t".repeat(43),
  startedAt: now,
  guests: { count: 0, agents: [] },
  agentsSeen: [],
  connection: "online",
};
const watched: VisitorState = { ...live, guests: { count: 1, agents: ["alice"] }, agentsSeen: ["alice"] };

const types = (effects: Effect[]) => effects.map((e) => e.type);

describe("visitor state machine", () => {
  // [name, from, event, expected status, expected effect types]
  it.each<[string, VisitorState, VisitorEvent, VisitorState["status"], string[]]>([
    ["Share connects", INITIAL_STATE, { type: "share", tabId: 7, site: "https://shop.test", keyType: "random" }, "starting", ["connect"]],
    ["Stop with nothing running is rejected", INITIAL_STATE, { type: "stop", now }, "idle", ["rejected"]],
    ["a stray welcome while idle closes the socket", INITIAL_STATE, { type: "connected" }, "idle", ["disconnect"]],
    ["welcome asks for a session", starting, { type: "connected" }, "starting", ["send"]],
    ["the key arrives: capture starts", starting, { type: "started", sessionKey: "123456", keyType: "random", resumeToken: "x", now }, "live", ["startCapture", "historyStart"]],
    ["a server error while starting", starting, { type: "error", code: "UNKNOWN_GROUP", now }, "idle", ["disconnect"]],
    ["the server cannot be reached", starting, { type: "disconnected", now }, "idle", ["disconnect"]],
    ["Stop while starting", starting, { type: "stop", now }, "idle", ["disconnect"]],
    ["a second Share while starting is rejected", starting, { type: "share", tabId: 8, site: "x", keyType: "random" }, "starting", ["rejected"]],
    ["closing the shared tab while starting", starting, { type: "tabClosed", tabId: 7, now }, "idle", ["disconnect"]],
    ["closing another tab changes nothing", live, { type: "tabClosed", tabId: 99, now }, "live", []],
    ["an agent joins", live, { type: "guests", count: 1, agents: ["alice"] }, "live", []],
    ["a late joiner needs a snapshot", watched, { type: "snapshotRequest" }, "live", ["requestSnapshot"]],
    ["the visitor stops", watched, { type: "stop", now }, "idle", ["send", "stopCapture", "disconnect", "historyEnd"]],
    ["the shared tab closes", watched, { type: "tabClosed", tabId: 7, now }, "idle", ["send", "stopCapture", "disconnect", "historyEnd"]],
    ["the agent ends it", watched, { type: "ended", reason: "agent_ended", now }, "idle", ["stopCapture", "disconnect", "historyEnd"]],
    ["the socket drops: reconnect, keep the session", watched, { type: "disconnected", now }, "live", ["reconnect"]],
    ["a dropped bad frame is not fatal", watched, { type: "error", code: "BAD_MESSAGE", now }, "live", []],
    ["a resume re-sends a full snapshot (frames sent while down were lost)", { ...watched, connection: "reconnecting" }, { type: "resumed", count: 1, agents: ["alice"] }, "live", ["requestSnapshot"]],
    ["a failed resume ends the session", watched, { type: "error", code: "RESUME_FAILED", now }, "idle", ["stopCapture", "disconnect", "historyEnd"]],
    ["reconnecting gave up", watched, { type: "error", code: "SERVER_UNREACHABLE", now }, "idle", ["stopCapture", "disconnect", "historyEnd"]],
    ["Accept starts a one-click session", INITIAL_STATE, { type: "share", tabId: 7, site: "https://shop.test", keyType: "visitor" }, "starting", ["connect"]],
    ["Share during a session is rejected", live, { type: "share", tabId: 8, site: "x", keyType: "random" }, "live", ["rejected"]],
  ])("%s", (_name, from, event, status, effects) => {
    const result = transition(from, event);
    expect(result.state.status).toBe(status);
    expect(types(result.effects)).toEqual(effects);
  });

  it("asks the server for a random-key session for the shared site", () => {
    const { effects } = transition(starting, { type: "connected" });
    expect(effects).toEqual([{ type: "send", message: { t: "startSession", keyType: "random", site: "https://shop.test" } }]);
  });

  it("records whether a session is manual or one-click", () => {
    const oneClick = transition(INITIAL_STATE, { type: "share", tabId: 7, site: "https://shop.test", keyType: "visitor" });
    expect(oneClick.effects).toEqual([{ type: "connect", keyType: "visitor", site: "https://shop.test" }]);
    const asked = transition(oneClick.state, { type: "connected" });
    expect(asked.effects).toEqual([{ type: "send", message: { t: "startSession", keyType: "visitor", site: "https://shop.test" } }]);
    const started = transition(oneClick.state, { type: "started", sessionKey: "cust-42", keyType: "visitor", resumeToken: "x", now });
    expect(started.state).toMatchObject({ status: "live", keyType: "visitor", sessionKey: "cust-42" });
  });

  it("records why a session ended and every agent who watched", () => {
    const joined = transition(live, { type: "guests", count: 2, agents: ["alice", "bob"] }).state;
    const left = transition(joined, { type: "guests", count: 1, agents: ["bob"] }).state;
    const { state, effects } = transition(left, { type: "ended", reason: "agent_ended", now: 5 });
    expect(state).toEqual({ status: "idle", lastEnded: { reason: "agent_ended", code: null, at: 5, sessionKey: "123456", tabId: 7 } });
    expect(effects).toContainEqual({ type: "historyEnd", sessionKey: "123456", reason: "agent_ended", agents: ["alice", "bob"], at: 5 });
  });

  it("marks the connection as reconnecting, then online again once resumed", () => {
    const dropped = transition(watched, { type: "disconnected", now }).state;
    expect(dropped).toMatchObject({ connection: "reconnecting" });
    const back = transition(dropped, { type: "resumed", count: 1, agents: ["alice"] }).state;
    expect(back).toMatchObject({ status: "live", connection: "online", guests: { count: 1 } });
  });

  it("reconnects with the session's resume token", () => {
    const { effects } = transition(watched, { type: "disconnected", now });
    expect(effects).toEqual([{ type: "reconnect", resume: { sessionKey: "123456", token: "t".repeat(43) } }]);
  });

  it("tells the server when the visitor stops, before closing the socket", () => {
    const { effects } = transition(watched, { type: "stop", now });
    expect(effects[0]).toEqual({ type: "send", message: { t: "endSession" } });
    expect(types(effects).indexOf("send")).toBeLessThan(types(effects).indexOf("disconnect"));
  });

  it("forgets the ended notice when dismissed", () => {
    const ended = transition(watched, { type: "stop", now }).state;
    expect(ended).toMatchObject({ lastEnded: { reason: "visitor_stopped" } });
    expect(transition(ended, { type: "dismiss" }).state).toEqual(INITIAL_STATE);
  });

  it("pauses: the recorder stops and the agents are told the visitor paused; resume starts a new recorder", () => {
    const paused = transition(watched, { type: "pauseShare" });
    expect(paused.state).toMatchObject({ status: "live", paused: true });
    expect(paused.effects).toEqual([
      { type: "stopCapture", tabId: 7 },
      { type: "send", message: { t: "paused", reason: "visitor" } },
    ]);
    // A second click, or a late joiner's snapshot request, records nothing while paused.
    expect(transition(paused.state, { type: "pauseShare" }).effects).toEqual([]);
    expect(transition(paused.state, { type: "snapshotRequest" }).effects).toEqual([]);
    const resumed = transition(paused.state, { type: "resumeShare" });
    expect(resumed.state).toMatchObject({ status: "live", paused: false });
    expect(resumed.effects).toEqual([{ type: "startCapture", tabId: 7 }]);
    expect(transition(resumed.state, { type: "resumeShare" }).effects).toEqual([]);
  });

  it("a reconnect while paused tells the server again instead of sending the page", () => {
    const paused = transition(watched, { type: "pauseShare" }).state;
    const dropped = transition(paused, { type: "disconnected", now }).state;
    const back = transition(dropped, { type: "resumed", count: 1, agents: ["alice"] });
    expect(back.state).toMatchObject({ paused: true, connection: "online" });
    expect(back.effects).toEqual([{ type: "send", message: { t: "paused", reason: "visitor" } }]);
  });

  it("pause and resume mean nothing without a live session", () => {
    expect(transition(INITIAL_STATE, { type: "pauseShare" }).state).toEqual(INITIAL_STATE);
    expect(transition(starting, { type: "resumeShare" }).state).toEqual(starting);
  });

  it("survives a restart mid-session: the persisted state is plain data", () => {
    const restored = JSON.parse(JSON.stringify(watched)) as VisitorState;
    expect(transition(restored, { type: "snapshotRequest" }).effects).toEqual([{ type: "requestSnapshot", tabId: 7 }]);
  });
});
