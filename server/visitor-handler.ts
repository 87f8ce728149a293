/**
 * A visitor's connection. role "session": hello (or resume), start a session, stream frames, end.
 * role "presence" (one-click): hello with a visitor ID, page updates, answers to share requests.
 * A one-click session starts on a session connection that presents the ticket its presence
 * connection got for accepting (server/requests.ts): the identity proven there is not proven again.
 */
import { parseVisitorMessage, PROTOCOL_VERSION, type VisitorToServer } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { verifyIdentity } from "./identity";
import { joinSession } from "./join";
import type { ShareRequest } from "./requests";
import { send, sendError, type Peer } from "./peer";
import type { Group } from "./store";

type Hello = Extract<VisitorToServer, { t: "hello" }>;

export function visitorConnection(hub: Hub, peer: Peer): Connection {
  let phase: "new" | "verifying" | "ready" | "closed" = "new";
  let group: Group | null = null;
  let visitorId: string | null = null;
  let role: "presence" | "session" = "session";
  let verified = false;
  /** The accepted share request this session connection starts (from its ticket). */
  let accepted: ShareRequest | null = null;

  async function onHello(message: Hello): Promise<void> {
    if (message.v !== PROTOCOL_VERSION) {
      sendError(peer, "VERSION_MISMATCH", `The server speaks protocol ${PROTOCOL_VERSION}, this client ${message.v}. Update the extension.`);
      return peer.close(4001, "VERSION_MISMATCH");
    }
    const found = hub.store.getGroup(message.groupId);
    if (!found) {
      sendError(peer, "UNKNOWN_GROUP");
      return peer.close(4004, "UNKNOWN_GROUP");
    }
    role = message.role ?? "session";
    if (message.ticket) {
      accepted = role === "session" ? hub.requests.redeem(found.id, message.ticket) : null;
      if (!accepted) {
        sendError(peer, "TICKET_INVALID");
        return peer.close(4003, "TICKET_INVALID");
      }
      visitorId = accepted.visitorId;
      verified = accepted.verified;
    } else if (message.visitorId) {
      const identity = await verifyIdentity(found, message.visitorId, message.token, hub.config.tokenMaxAgeS);
      if (phase === "closed") return;
      if (!identity.ok) {
        sendError(peer, identity.code, identity.message);
        return peer.close(4003, identity.code);
      }
      verified = identity.verified;
      visitorId = message.visitorId;
    } else if (role === "presence") {
      sendError(peer, "NOT_LINKED");
      return peer.close(4003, "NOT_LINKED");
    }
    if (role === "presence" && visitorId && !hub.presence.connect(found.id, visitorId, peer, { verified, name: message.name ?? null })) {
      sendError(peer, "VISITOR_VERIFIED_ELSEWHERE");
      return peer.close(4003, "VISITOR_VERIFIED_ELSEWHERE");
    }
    group = found;
    phase = "ready";
    send(peer, { t: "welcome", v: PROTOCOL_VERSION, group: { id: found.id, name: found.name }, visitorId, verified });
    if (role === "presence" && visitorId) {
      // A browser that (re)connects gets the request still waiting for an answer (e.g. after a worker restart).
      const open = hub.requests.current(found.id, visitorId);
      if (open && (open.state === "pending" || open.state === "displayed") && hub.presence.isSignalable(peer)) {
        send(peer, { t: "shareRequest", id: open.id, agent: open.agent, expiresAt: open.expiresAt });
      }
    }
    if (message.resume) {
      const session = hub.registry.resume(found.id, message.resume.sessionKey, message.resume.token, peer);
      if (!session) return sendError(peer, "RESUME_FAILED");
      const agents = [...new Set(session.agents.values())];
      send(peer, { t: "sessionResumed", sessionKey: session.key, count: session.agents.size, agents });
    }
  }

  function onMessage(message: VisitorToServer, text: string, raw: Buffer): void {
    if (message.t === "hello") return sendError(peer, "INVALID_STATE", "hello was already received on this connection.");
    if (message.t === "pong") return;
    const groupId = group!.id;
    if (message.t === "presence") {
      if (role !== "presence") return sendError(peer, "INVALID_STATE", "presence is sent on a presence connection.");
      return hub.presence.update(peer, { url: message.url, title: message.title }, message.visible);
    }
    if (message.t === "requestAnswer") {
      if (role !== "presence" || !visitorId) return sendError(peer, "INVALID_STATE", "Answers come on the presence connection.");
      // Only the browser the request went to answers (not one in the background, not another claimant).
      if (!hub.presence.isSignalable(peer)) return sendError(peer, "REQUEST_NOT_FOUND", "This browser is not the one the request went to.");
      const result = hub.requests.answer(groupId, visitorId, message.id, message.status, verified);
      if ("code" in result) return sendError(peer, result.code);
      if (message.status === "accepted") send(peer, { t: "requestAccepted", id: result.request.id, ticket: result.request.ticket! });
      return;
    }
    const session = hub.registry.ofVisitor(peer);
    if (message.t === "startSession") {
      if (role !== "session") return sendError(peer, "INVALID_STATE", "Sessions start on a session connection.");
      if (session) return sendError(peer, "INVALID_STATE", "This connection already has a live session.");
      const request = accepted;
      if (message.keyType === "visitor") {
        if (!visitorId) return sendError(peer, "NOT_LINKED");
        // Only an accepted request starts a session keyed by the visitor (and so can replace one).
        if (!request) return sendError(peer, "TICKET_INVALID", "A one-click session starts only from an accepted share request.");
        const existing = hub.registry.lookup(groupId, visitorId, "visitor");
        if ("session" in existing) hub.registry.end(existing.session, "visitor_stopped");
      }
      const created = hub.registry.create(groupId, group!.keyLength, message.keyType, message.site, peer, message.keyType === "visitor" ? visitorId! : undefined);
      send(peer, { t: "sessionStarted", sessionKey: created.key, keyType: created.keyType, resumeToken: created.resumeToken });
      if (message.keyType === "visitor" && request) {
        accepted = null;
        // Bound to the request: its agent joins now (or rejoins after a reload); no one else.
        created.allowedAgent = request.agent;
        hub.requests.started(request);
        if (request.agentPeer) joinSession(hub, created, request.agentPeer as typeof peer, request.agent);
      }
      return;
    }
    if (!session) return sendError(peer, "INVALID_STATE", `"${message.t}" needs a live session; start one first.`);
    switch (message.t) {
      case "frames":
      case "chunk":
        hub.onRelay?.(session.key, text);
        return hub.registry.toAgents(session, raw);
      case "page":
        session.page = { url: message.url, title: message.title };
        session.paused = false;
        return hub.registry.toAgents(session, JSON.stringify({ t: "page", url: message.url, title: message.title }));
      case "paused":
        session.paused = true;
        return hub.registry.toAgents(session, text);
      case "asset": {
        const refused = session.assets.put(message);
        if (refused === "bad_piece") return sendError(peer, "BAD_MESSAGE", `The asset piece for ${message.url.slice(0, 200)} does not fit the pieces before it or its hash. It was dropped.`);
        if (refused) return hub.registry.toAgents(session, JSON.stringify({ t: "assetSkipped", url: message.url, reason: refused }));
        return;
      }
      case "assetSkipped":
        session.assets.skip(message.url, message.reason);
        return hub.registry.toAgents(session, text);
      case "endSession":
        return hub.registry.end(session, "visitor_stopped");
    }
  }

  return {
    onText(text, raw) {
      hub.onVisitorInbound?.(text);
      const parsed = parseVisitorMessage(text);
      if (!parsed.ok) return sendError(peer, parsed.error.code, parsed.error.message);
      if (phase === "new") {
        if (parsed.value.t !== "hello") {
          sendError(peer, "HELLO_REQUIRED");
          return peer.close(4002, "HELLO_REQUIRED");
        }
        phase = "verifying";
        onHello(parsed.value).catch((error) => {
          console.error("glimpse: hello failed", error);
          sendError(peer, "INTERNAL");
        });
        return;
      }
      if (phase === "verifying") return sendError(peer, "INVALID_STATE", "Wait for welcome before sending more.");
      onMessage(parsed.value, text, raw);
    },
    greeted: () => phase !== "new",
    onClose() {
      phase = "closed";
      hub.presence.disconnect(peer);
      hub.registry.visitorGone(peer);
    },
  };
}
