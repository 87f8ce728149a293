import { describe, expect, it } from "vitest";
import { controlTransition, type ControlEvent, type ControlView } from "../../src/visitor/control";

const asked: ControlView = { agent: "alice", state: "asked" };
const granted: ControlView = { agent: "alice", state: "granted" };
const suspended: ControlView = { agent: "alice", state: "suspended" };
const click = { kind: "click", id: 7 } as const;

describe("remote control consent", () => {
  // [name, from, event, expected state, expected effects]
  it.each<[string, ControlView, ControlEvent, ControlView, unknown[]]>([
    ["an agent asks: the dialog shows", null, { type: "requested", agent: "alice" }, asked, []],
    ["a second agent cannot take over a request", asked, { type: "requested", agent: "bob" }, asked, []],
    ["Allow grants it and starts listening for the visitor", asked, { type: "answer", allow: true }, granted, [{ type: "send", state: "granted" }, { type: "watch", on: true }]],
    ["Decline ends it", asked, { type: "answer", allow: false }, null, [{ type: "send", state: "declined" }]],
    ["an answer without a request means nothing", null, { type: "answer", allow: true }, null, []],
    ["a second Allow changes nothing", granted, { type: "answer", allow: true }, granted, []],
    ["the agent's action is done while granted", granted, { type: "action", agent: "alice", action: click }, granted, [{ type: "apply", action: click }]],
    ["not while suspended", suspended, { type: "action", agent: "alice", action: click }, suspended, []],
    ["not before the visitor allows", asked, { type: "action", agent: "alice", action: click }, asked, []],
    ["not from another agent", granted, { type: "action", agent: "bob", action: click }, granted, []],
    ["an action for control we do not have (restarted background) is answered revoked", null, { type: "action", agent: "alice", action: click }, null, [{ type: "send", state: "revoked" }]],
    ["the visitor moves: suspended", granted, { type: "activity" }, suspended, [{ type: "send", state: "suspended" }, { type: "idleTimer" }]],
    ["moving on keeps it suspended longer", suspended, { type: "activity" }, suspended, [{ type: "idleTimer" }]],
    ["still again: granted again", suspended, { type: "idle" }, granted, [{ type: "send", state: "granted" }]],
    ["activity without control means nothing", null, { type: "activity" }, null, []],
    ["Stop revokes it", granted, { type: "stop" }, null, [{ type: "send", state: "revoked" }, { type: "watch", on: false }]],
    ["Stop while suspended revokes it too", suspended, { type: "stop" }, null, [{ type: "send", state: "revoked" }, { type: "watch", on: false }]],
    ["the agent releases it", granted, { type: "released", agent: "alice" }, null, [{ type: "watch", on: false }]],
    ["a withdrawn request takes the dialog away", asked, { type: "released", agent: "alice" }, null, []],
    ["another agent's release changes nothing", granted, { type: "released", agent: "bob" }, granted, []],
    ["the session ends", suspended, { type: "reset" }, null, [{ type: "watch", on: false }]],
  ])("%s", (_name, from, event, state, effects) => {
    const result = controlTransition(from, event);
    expect(result.state).toEqual(state);
    expect(result.effects).toEqual(effects);
  });
});
