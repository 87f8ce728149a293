/** A visitor's connection: hello (or resume), start a session, stream frames, end. */
import { parseVisitorMessage, PROTOCOL_VERSION, type VisitorToServer } from "../src/protocol";
import { send, sendError, type Peer } from "./peer";
import type { Hub, Connection } from "./hub";
import type { Group } from "./store";

export function visitorConnection(hub: Hub, peer: Peer): Connection {
  let group: Group | null = null;

  function onHello(message: Extract<VisitorToServer, { t: "hello" }>): void {
    if (message.v !== PROTOCOL_VERSION) {
      sendError(peer, "VERSION_MISMATCH", `The server speaks protocol ${PROTOCOL_VERSION}, this client ${message.v}. Update the extension.`);
      return peer.close(4001, "VERSION_MISMATCH");
    }
    group = hub.store.getGroup(message.groupId);
    if (!group) {
      sendError(peer, "UNKNOWN_GROUP");
      return peer.close(4004, "UNKNOWN_GROUP");
    }
    send(peer, { t: "welcome", v: PROTOCOL_VERSION, group: { id: group.id, name: group.name } });
    if (message.resume) {
      const session = hub.registry.resume(group.id, message.resume.sessionKey, message.resume.token, peer);
      if (!session) return sendError(peer, "RESUME_FAILED");
      const agents = [...new Set(session.agents.values())];
      send(peer, { t: "sessionResumed", sessionKey: session.key, count: session.agents.size, agents });
    }
  }

  function onMessage(message: VisitorToServer, text: string): void {
    if (message.t === "hello") return sendError(peer, "INVALID_STATE", "hello was already received on this connection.");
    if (message.t === "pong") return;
    const session = hub.registry.ofVisitor(peer);
    if (message.t === "startSession") {
      if (session) return sendError(peer, "INVALID_STATE", "This connection already has a live session.");
      const created = hub.registry.create(group!.id, group!.keyLength, message.keyType, message.site, peer);
      return send(peer, { t: "sessionStarted", sessionKey: created.key, keyType: created.keyType, resumeToken: created.resumeToken });
    }
    if (!session) return sendError(peer, "INVALID_STATE", `"${message.t}" needs a live session; start one first.`);
    switch (message.t) {
      case "frames":
        hub.onRelay?.(session.key, text);
        return hub.registry.toAgents(session, text);
      case "page":
        session.page = { url: message.url, title: message.title };
        session.paused = false;
        return hub.registry.toAgents(session, JSON.stringify({ t: "page", url: message.url, title: message.title }));
      case "paused":
        session.paused = true;
        return hub.registry.toAgents(session, text);
      case "endSession":
        return hub.registry.end(session, "visitor_stopped");
    }
  }

  return {
    onText(text) {
      const parsed = parseVisitorMessage(text);
      if (!parsed.ok) return sendError(peer, parsed.error.code, parsed.error.message);
      if (!group) {
        if (parsed.value.t !== "hello") {
          sendError(peer, "HELLO_REQUIRED");
          return peer.close(4002, "HELLO_REQUIRED");
        }
        return onHello(parsed.value);
      }
      onMessage(parsed.value, text);
    },
    onClose() {
      hub.registry.visitorGone(peer);
    },
  };
}
