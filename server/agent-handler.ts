/** An agent console's connection (already authenticated at upgrade): join by key, watch, end. */
import { normalizeKey } from "../src/keys";
import { parseAgentMessage, PROTOCOL_VERSION, type AgentToServer } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { send, sendError, type Peer } from "./peer";
import type { Agent } from "./store";

export function agentConnection(hub: Hub, peer: Peer, agent: Agent): Connection {
  let greeted = false;

  function onMessage(message: AgentToServer): void {
    const current = hub.registry.ofAgent(peer);
    switch (message.t) {
      case "hello":
        return sendError(peer, "INVALID_STATE", "hello was already received on this connection.");
      case "pong":
        return;
      case "join": {
        const key = normalizeKey(message.key);
        if (!key) return sendError(peer, "KEY_INVALID");
        const found = hub.registry.lookup(agent.groupId, key);
        if ("code" in found) return sendError(peer, found.code);
        if (current) hub.registry.leave(peer);
        const { session } = found;
        send(peer, {
          t: "joined",
          sessionKey: session.key,
          keyType: session.keyType,
          page: session.page,
          visitorConnected: session.visitor !== null,
        });
        hub.registry.join(session, peer, agent.username);
        if (session.paused) send(peer, { t: "paused" });
        // A late joiner needs a full snapshot to see anything at all.
        if (session.visitor) send(session.visitor, { t: "snapshotRequest" });
        return;
      }
      case "leave":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.leave(peer);
      case "endSession":
        if (!current) return sendError(peer, "INVALID_STATE", "You are not in a session.");
        return hub.registry.end(current, "agent_ended");
    }
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
    onClose() {
      hub.registry.leave(peer);
    },
  };
}
