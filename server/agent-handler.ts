/** An agent console's connection (already authenticated at upgrade): join by key, watch visitors, end. */
import { normalizeKey } from "../src/keys";
import { parseAgentMessage, PROTOCOL_VERSION, type AgentToServer } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { MAX_OPEN_INVITES } from "./invites";
import { joinSession } from "./join";
import { requestMessage } from "./request-events";
import { retryMessage } from "./limits";
import { send, sendError, type Peer } from "./peer";
import type { Agent } from "./store";

/** `valid`: whether the credential the socket was opened with still signs this agent in (server/agent-sockets.ts). */
export function agentConnection(hub: Hub, peer: Peer, agent: Agent, ip: string, valid: () => boolean): Connection {
  let greeted = false;
  const self = { peer, valid };
  const forget = hub.agentSockets.add(self);
  let joins: Promise<void> = Promise.resolve();
  const group = agent.groupId; // an agent only ever sees and acts within its own group

  function onMessage(message: AgentToServer): void {
    // Signed out, expired, revoked or removed since the socket opened: closed before acting.
    if (message.t !== "pong" && !hub.agentSockets.authorized(self)) return;
    const current = hub.registry.ofAgent(peer);
    switch (message.t) {
      case "hello":
        return sendError(peer, "INVALID_STATE", "hello was already received on this connection.");
      case "pong":
        return;
      case "join":
        // One join at a time per connection: a burst of guesses cannot outrun the failure count.
        joins = joins.then(() => joinByKey(message.key)).catch((error) => {
          console.error("glimpse: join failed", error);
          sendError(peer, "INTERNAL");
        });
        return;
      case "watchVisitor": {
        hub.presence.watch(peer, group, message.visitorId);
        // The record shows the visitor's open request, whoever asked; a reloaded console gets its own back.
        const open = hub.requests.reattach(group, message.visitorId, agent.username, peer) ?? hub.requests.current(group, message.visitorId);
        if (open) send(peer, requestMessage(open));
        return;
      }
      case "unwatchVisitor":
        return hub.presence.unwatch(peer, group, message.visitorId);
      case "requestShare": {
        if (!hub.presence.isOnline(group, message.visitorId)) return sendError(peer, "VISITOR_OFFLINE");
        const verified = hub.presence.snapshot(group, message.visitorId).verified;
        const result = hub.requests.create(group, message.visitorId, agent.username, peer, verified);
        if ("code" in result) return sendError(peer, result.code, `${result.by} has already asked this visitor to share. You can ask once that request is answered, cancelled or expires.`);
        if (!result.created) send(peer, requestMessage(result.request));
        return;
      }
      case "cancelRequest":
        if (!hub.requests.cancel(group, message.visitorId, agent.username)) return sendError(peer, "REQUEST_NOT_FOUND");
        return;
      case "joinVisitor": {
        const found = hub.registry.lookup(group, message.visitorId, "visitor");
        // The agent whose request started it, and anyone who has been in it (a colleague invited in).
        if (!("session" in found) || (found.session.allowedAgent !== agent.username && !found.session.agentsSeen.has(agent.username))) {
          return sendError(peer, "KEY_NOT_FOUND", "You have no live session with this visitor (it ended, or another agent's request started it).");
        }
        return joinSession(hub, found.session, peer, agent.username);
      }
      case "controlRequest": {
        if (!current?.visitor) return sendError(peer, "INVALID_STATE", "Control needs a session whose visitor is connected.");
        const held = current.control;
        if (held && held.agent !== agent.username) return sendError(peer, "CONTROL_BUSY", `${held.agent} controls the visitor's page or has asked to. Only one agent controls at a time.`);
        if (held) return send(peer, { t: "controlState", agent: held.agent, state: held.state }); // asked already, or granted
        send(current.visitor, { t: "controlRequest", agent: agent.username });
        return hub.registry.setControl(current, agent.username, "asked");
      }
      case "controlRelease":
        if (current?.control?.agent === agent.username) hub.registry.setControl(current, agent.username, "released");
        return;
      case "control": {
        const held = current?.control;
        if (!current?.visitor || held?.agent !== agent.username || held.state !== "granted") {
          return sendError(peer, "CONTROL_NOT_GRANTED", held?.agent === agent.username && held.state === "suspended" ? "The visitor is using the page: control resumes when they stop. The action was dropped." : undefined);
        }
        return send(current.visitor, { t: "control", agent: agent.username, action: message.action });
      }
      case "invite": {
        if (!current) return sendError(peer, "INVALID_STATE", "Join a session first: an invitation brings a colleague into your session.");
        const invite = hub.invites.create(current, agent.username);
        if (!invite) return sendError(peer, "RATE_LIMITED", `This session has ${MAX_OPEN_INVITES} unused invitations. Wait until they are used or expire.`);
        return send(peer, { t: "invited", ...invite });
      }
      case "joinInvite": {
        const invite = hub.invites.redeem(group, message.token);
        // Its session may have ended since (the registry no longer has that very session).
        const live = invite && hub.registry.lookup(group, invite.session.key, invite.session.keyType);
        if (!live || !("session" in live) || live.session !== invite.session) return sendError(peer, "INVITE_INVALID");
        return joinSession(hub, invite.session, peer, agent.username);
      }
      case "leave":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.leave(peer);
      case "endSession":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.end(current, "agent_ended");
      // Transient: one sent as the session ends, or while the visitor reconnects, is dropped.
      case "pointer":
        if (current?.visitor) send(current.visitor, { t: "pointer", agent: agent.username, target: message.target });
        return;
      case "highlight":
        if (current?.visitor) send(current.visitor, { t: "highlight", agent: agent.username, id: message.id });
        return;
      case "draw":
        if (current?.visitor) send(current.visitor, { t: "draw", agent: agent.username, stroke: message.stroke });
        return;
    }
  }

  /** Keys are guessable by brute force only as fast as failures are allowed (server/limits.ts). */
  async function joinByKey(typed: string): Promise<void> {
    const key = normalizeKey(typed);
    if (!key) return sendError(peer, "KEY_INVALID");
    const wait = await hub.limits.joinBlockedFor(agent.id, ip, key);
    if (wait > 0) return sendError(peer, "RATE_LIMITED", retryMessage(wait));
    const found = hub.registry.lookup(group, key, "random");
    if ("code" in found) {
      await hub.limits.joinFailed(agent.id, ip, key);
      return sendError(peer, found.code);
    }
    joinSession(hub, found.session, peer, agent.username);
  }

  return {
    onText(text) {
      const parsed = parseAgentMessage(text);
      if (!parsed.ok) return sendError(peer, parsed.error.code, parsed.error.message);
      if (!greeted) {
        if (parsed.value.t !== "hello") {
          sendError(peer, "HELLO_REQUIRED");
          return peer.close(4002, "HELLO_REQUIRED");
        }
        if (parsed.value.v !== PROTOCOL_VERSION) {
          sendError(peer, "VERSION_MISMATCH", `The server speaks protocol ${PROTOCOL_VERSION}, this console ${parsed.value.v}. Reload the console.`);
          return peer.close(4001, "VERSION_MISMATCH");
        }
        greeted = true;
        return send(peer, { t: "welcome", v: PROTOCOL_VERSION, agent: { username: agent.username, groupId: agent.groupId } });
      }
      onMessage(parsed.value);
    },
    greeted: () => greeted,
    onClose() {
      forget();
      hub.requests.agentGone(peer);
      hub.registry.leave(peer);
      hub.presence.agentGone(peer);
    },
  };
}
