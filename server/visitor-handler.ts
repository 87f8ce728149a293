/**
 * A visitor's connection. role "session": hello (or resume), start a session, stream frames, end.
 * role "presence" (one-click): hello with a visitor ID, page updates, answers to share requests.
 * A one-click session starts on a session connection that presents the ticket its presence
 * connection got for accepting (server/requests.ts): the identity proven there is not proven again.
 */
import { parseVisitorMessage, PROTOCOL_VERSION, type ControlRefusal, type VisitorToServer } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { verifyIdentity } from "./identity";
import { joinWaitingAgent, redeemElsewhere, verifiedElsewhere, type RemoteRequest } from "./cluster-hub";
import type { ShareRequest } from "./requests";
import { send, sendError, type Peer } from "./peer";
import { StoreUnavailable, type Group } from "./store";

type Hello = Extract<VisitorToServer, { t: "hello" }>;

export function visitorConnection(hub: Hub, peer: Peer): Connection {
  return new VisitorConnection(hub, peer);
}

/** One visitor connection (a class, not closures: presence connections are many and idle). */
/** What the agent in control is told when the visitor's page did not do an action. */
const REFUSALS: Record<ControlRefusal, string> = {
  masked: "That field is masked (a password, payment field or one the site protects): an agent can neither read nor type into it.",
  offsite: "That link leaves the shared site: control stays within it.",
  missing: "That element is no longer on the visitor's page.",
  unsupported: "The visitor's page cannot do that action on that element.",
};

class VisitorConnection implements Connection {
  private phase: "new" | "verifying" | "ready" | "closed" = "new";
  private group: Group | null = null;
  private visitorId: string | null = null;
  private role: "presence" | "session" = "session";
  private verified = false;
  /** The accepted share request this session connection starts (from its ticket; several nodes: maybe another node's). */
  private accepted: ShareRequest | RemoteRequest | null = null;

  constructor(
    private readonly hub: Hub,
    private readonly peer: Peer,
  ) {}

  onText(text: string, raw: Buffer): void {
    this.hub.onVisitorInbound?.(text);
    const parsed = parseVisitorMessage(text);
    if (!parsed.ok) return sendError(this.peer, parsed.error.code, parsed.error.message);
    if (this.phase === "new") {
      if (parsed.value.t !== "hello") {
        sendError(this.peer, "HELLO_REQUIRED");
        return this.peer.close(4002, "HELLO_REQUIRED");
      }
      this.phase = "verifying";
      this.onHello(parsed.value).catch((error) => {
        if (error instanceof StoreUnavailable) {
          // The extension reconnects with backoff; behind a load balancer, maybe to a node that can.
          sendError(this.peer, "NOT_READY", "The server cannot reach its database. Retrying shortly.");
          return this.peer.close(1013, "NOT_READY");
        }
        console.error("glimpse: hello failed", error);
        sendError(this.peer, "INTERNAL");
      });
      return;
    }
    if (this.phase === "verifying") return sendError(this.peer, "INVALID_STATE", "Wait for welcome before sending more.");
    this.onMessage(parsed.value, text, raw);
  }

  /** The socket closed (checked after each wait in onHello). */
  private closed(): boolean {
    return this.phase === "closed";
  }

  greeted(): boolean {
    return this.phase !== "new";
  }

  onClose(): void {
    this.phase = "closed";
    this.hub.presence.disconnect(this.peer);
    if (this.role === "presence" && this.visitorId && this.group && !this.hub.presence.isOnline(this.group.id, this.visitorId)) {
      this.hub.cluster?.leaveHome(this.group.id, this.visitorId).catch(() => {});
    }
    this.hub.registry.visitorGone(this.peer);
  }

  private async onHello(message: Hello): Promise<void> {
    if (message.v !== PROTOCOL_VERSION) {
      sendError(this.peer, "VERSION_MISMATCH", `The server speaks protocol ${PROTOCOL_VERSION}, this client ${message.v}. Update the extension.`);
      return this.peer.close(4001, "VERSION_MISMATCH");
    }
    const found = await this.hub.store.getGroup(message.groupId);
    if (this.closed()) return;
    if (!found) {
      sendError(this.peer, "UNKNOWN_GROUP");
      return this.peer.close(4004, "UNKNOWN_GROUP");
    }
    this.role = message.role ?? "session";
    if (message.ticket) {
      this.accepted = this.role === "session" ? (this.hub.requests.redeem(found.id, message.ticket) ?? (await redeemElsewhere(this.hub, found.id, message.ticket))) : null;
      if (this.closed()) return;
      if (!this.accepted) {
        sendError(this.peer, "TICKET_INVALID");
        return this.peer.close(4003, "TICKET_INVALID");
      }
      this.visitorId = this.accepted.visitorId;
      this.verified = this.accepted.verified;
    } else if (message.visitorId) {
      const identity = await verifyIdentity(found, message.visitorId, message.token, this.hub.config.tokenMaxAgeS);
      if (this.closed()) return;
      if (!identity.ok) {
        sendError(this.peer, identity.code, identity.message);
        return this.peer.close(4003, identity.code);
      }
      this.verified = identity.verified;
      this.visitorId = message.visitorId;
    } else if (this.role === "presence") {
      sendError(this.peer, "NOT_LINKED");
      return this.peer.close(4003, "NOT_LINKED");
    }
    // Several nodes: a verified browser of this visitor on another node outranks an unverified one here too.
    const outranked = this.role === "presence" && this.visitorId && !this.verified && (await verifiedElsewhere(this.hub, found.id, this.visitorId));
    if (this.closed()) return;
    if (outranked || (this.role === "presence" && this.visitorId && !this.hub.presence.connect(found.id, this.visitorId, this.peer, { verified: this.verified, name: message.name ?? null }))) {
      sendError(this.peer, "VISITOR_VERIFIED_ELSEWHERE");
      return this.peer.close(4003, "VISITOR_VERIFIED_ELSEWHERE");
    }
    if (this.role === "presence" && this.visitorId) this.hub.cluster?.claimHome(found.id, this.visitorId, this.verified).catch(() => {});
    this.group = found;
    this.phase = "ready";
    send(this.peer, { t: "welcome", v: PROTOCOL_VERSION, group: { id: found.id, name: found.name }, visitorId: this.visitorId, verified: this.verified, pingMs: this.hub.config.pingMs });
    if (this.role === "presence" && this.visitorId) {
      // A browser that (re)connects gets the request still waiting for an answer (e.g. after a worker restart).
      const open = this.hub.requests.current(found.id, this.visitorId);
      if (open && (open.state === "pending" || open.state === "displayed") && this.hub.presence.isSignalable(this.peer)) {
        send(this.peer, { t: "shareRequest", id: open.id, agent: open.agent, expiresAt: open.expiresAt });
      }
    }
    if (message.resume) {
      const session = await this.hub.registry.resume(found.id, message.resume.sessionKey, message.resume.token, this.peer);
      // Gone while a session kept by another node was looked up: it waits for the visitor again.
      if (this.closed()) return this.hub.registry.visitorGone(this.peer);
      if (!session) return sendError(this.peer, "RESUME_FAILED");
      const agents = [...new Set(session.agents.values())];
      send(this.peer, { t: "sessionResumed", sessionKey: session.key, count: session.agents.size, agents });
    }
  }

  private onMessage(message: VisitorToServer, text: string, raw: Buffer): void {
    if (message.t === "hello") return sendError(this.peer, "INVALID_STATE", "hello was already received on this connection.");
    if (message.t === "pong") return;
    const groupId = this.group!.id;
    if (message.t === "presence") {
      if (this.role !== "presence") return sendError(this.peer, "INVALID_STATE", "presence is sent on a presence connection.");
      return this.hub.presence.update(this.peer, { url: message.url, title: message.title }, message.visible);
    }
    if (message.t === "requestAnswer") {
      if (this.role !== "presence" || !this.visitorId) return sendError(this.peer, "INVALID_STATE", "Answers come on the presence connection.");
      // Only the browser the request went to answers (not one in the background, not another claimant).
      if (!this.hub.presence.isSignalable(this.peer)) return sendError(this.peer, "REQUEST_NOT_FOUND", "This browser is not the one the request went to.");
      const result = this.hub.requests.answer(groupId, this.visitorId, message.id, message.status, this.verified);
      if ("code" in result) return sendError(this.peer, result.code);
      if (message.status !== "accepted") return;
      const accepted = { t: "requestAccepted" as const, id: result.request.id, ticket: result.request.ticket! };
      // Several nodes: the session connection may reach another node, which must find the ticket's node first.
      if (!this.hub.cluster) return send(this.peer, accepted);
      void this.hub.cluster
        .remember("ticket", accepted.ticket, result.request.expiresAt - Date.now())
        .catch(() => {}) // Redis unreachable: the ticket still works on this node
        .then(() => send(this.peer, accepted));
      return;
    }
    const session = this.hub.registry.ofVisitor(this.peer);
    if (message.t === "startSession") {
      if (this.role !== "session") return sendError(this.peer, "INVALID_STATE", "Sessions start on a session connection.");
      if (session) return sendError(this.peer, "INVALID_STATE", "This connection already has a live session.");
      const request = this.accepted;
      if (message.keyType === "visitor") {
        if (!this.visitorId) return sendError(this.peer, "NOT_LINKED");
        // Only an accepted request starts a session keyed by the visitor (and so can replace one).
        if (!request) return sendError(this.peer, "TICKET_INVALID", "A one-click session starts only from an accepted share request.");
        const existing = this.hub.registry.lookup(groupId, this.visitorId, "visitor");
        if ("session" in existing) this.hub.registry.end(existing.session, "visitor_stopped");
      }
      const oneClick = message.keyType === "visitor" && request ? request : null;
      const remote = oneClick && "node" in oneClick ? oneClick : null;
      const local = oneClick && !("node" in oneClick) ? oneClick : null;
      const { session: created, resumeToken } = this.hub.registry.create({
        groupId,
        keyLength: this.group!.keyLength,
        keyType: message.keyType,
        site: message.site,
        visitor: this.peer,
        visitorId: message.keyType === "visitor" ? this.visitorId! : undefined,
        // Bound to the request: its agent joins now (or rejoins after a reload); no one else.
        allowedAgent: oneClick?.agent,
      });
      send(this.peer, { t: "sessionStarted", sessionKey: created.key, keyType: created.keyType, resumeToken });
      this.accepted = null;
      // Several nodes: the request was accepted on another node, which tells its waiting agent to join.
      if (remote) this.hub.cluster!.publish(remote.node, { k: "started", groupId, visitorId: remote.visitorId, requestId: remote.id });
      if (local) {
        this.hub.requests.started(local);
        if (local.agentPeer) joinWaitingAgent(this.hub, created, local.agentPeer, local.agent);
      }
      return;
    }
    if (!session) return sendError(this.peer, "INVALID_STATE", `"${message.t}" needs a live session; start one first.`);
    switch (message.t) {
      case "frames":
      case "chunk":
        this.hub.onRelay?.(session.key, text);
        this.hub.metrics.relayed(raw.length, session.agents.size);
        return this.hub.registry.toAgents(session, raw);
      case "page":
        session.page = { url: message.url, title: message.title };
        session.paused = null;
        return this.hub.registry.toAgents(session, JSON.stringify({ t: "page", url: message.url, title: message.title }));
      case "paused":
        session.paused = message.reason ?? "left_site";
        return this.hub.registry.toAgents(session, JSON.stringify({ t: "paused", reason: session.paused }));
      case "asset": {
        const refused = session.assets.put(message);
        if (refused === "bad_piece") return sendError(this.peer, "BAD_MESSAGE", `The asset piece for ${message.url.slice(0, 200)} does not fit the pieces before it or its hash. It was dropped.`);
        if (refused) return this.hub.registry.toAgents(session, JSON.stringify({ t: "assetSkipped", url: message.url, reason: refused }));
        return;
      }
      case "assetSkipped":
        session.assets.skip(message.url, message.reason);
        return this.hub.registry.toAgents(session, text);
      case "endSession":
        return this.hub.registry.end(session, "visitor_stopped");
      case "controlState": {
        const held = session.control;
        if (!held) return sendError(this.peer, "INVALID_STATE", "No agent has asked for control of this page.");
        // Granted only answers a request (or ends a suspension); the rest end or suspend control.
        if (message.state === "granted" && held.state === "granted") return;
        return this.hub.registry.setControl(session, held.agent, message.state);
      }
      case "controlRefused": {
        const held = session.control;
        if (!held) return;
        const text = JSON.stringify({ t: "error", code: "CONTROL_REFUSED", message: REFUSALS[message.reason] });
        for (const [agent, username] of session.agents) if (username === held.agent) agent.sendRaw(text);
        return;
      }
    }
  }
}
