/** An agent console's connection (already authenticated at upgrade): join by key, watch visitors, end. */
import { normalizeKey } from "../src/keys";
import { parseAgentMessage, PROTOCOL_VERSION, type AgentToServer } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { joinSession } from "./join";
import { retryMessage } from "./limits";
import { send, sendError, type Peer } from "./peer";
import type { Agent } from "./store";

export function agentConnection(hub: Hub, peer: Peer, agent: Agent, ip: string): Connection {
  let greeted = false;
  let joins: Promise<void> = Promise.resolve();
  const group = agent.groupId; // an agent only ever sees and acts within its own group

  function onMessage(message: AgentToServer): void {
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
      case "watchVisitor":
        return hub.presence.watch(peer, group, message.visitorId);
      case "unwatchVisitor":
        return hub.presence.unwatch(peer, group, message.visitorId);
      case "showTerms": {
        const text = JSON.stringify({ t: "signal", type: "showterms", agent: agent.username });
        if (!hub.presence.signal(group, message.visitorId, text)) return sendError(peer, "VISITOR_OFFLINE");
        return hub.presence.toWatchers(group, message.visitorId, JSON.stringify({ t: "terms", visitorId: message.visitorId, status: "sent" }));
      }
      case "joinVisitor": {
        const found = hub.registry.lookup(group, message.visitorId, "visitor");
        if ("session" in found) return joinSession(hub, found.session, peer, agent.username);
        hub.registry.wait(group, message.visitorId, peer, agent.username);
        return send(peer, { t: "waiting", visitorId: message.visitorId });
      }
      case "cancelWait":
        return hub.registry.cancelWait(peer);
      case "leave":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.leave(peer);
      case "endSession":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.end(current, "agent_ended");
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
    hub.registry.cancelWait(peer);
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
      hub.registry.cancelWait(peer);
      hub.registry.leave(peer);
      hub.presence.agentGone(peer);
    },
  };
}
