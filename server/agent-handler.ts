/** An agent console's connection (already authenticated at upgrade): join by key, watch visitors, end. */
import { normalizeKey } from "../src/keys";
import { parseAgentMessage, PROTOCOL_VERSION, type AgentToServer, type KeyType } from "../src/protocol";
import type { Connection, Hub } from "./hub";
import { MAX_OPEN_INVITES } from "./invites";
import { CredentialUnchecked } from "./agent-sockets";
import { joinSession } from "./join";
import { requestMessage } from "./request-events";
import { retryMessage } from "./limits";
import { send, sendError, type Peer } from "./peer";
import type { LiveSession } from "./sessions";
import type { Agent } from "./store";

class RedisUnreachable extends Error {}

/**
 * What a console sends about the session it is in. Several nodes: while its session is owned by
 * another node, these go there through the tunnel (server/tunnel.ts); the rest is handled here.
 */
const SESSION_MESSAGES = new Set<AgentToServer["t"]>(["leave", "endSession", "controlRequest", "controlRelease", "control", "invite", "pointer", "highlight", "draw"]);

/** What a console sends about a visitor (one-click). Several nodes: handled where the visitor's browser is connected. */
type VisitorMessage = Extract<AgentToServer, { t: "watchVisitor" | "unwatchVisitor" | "requestShare" | "cancelRequest" }>;
const isVisitorMessage = (message: AgentToServer): message is VisitorMessage =>
  message.t === "watchVisitor" || message.t === "unwatchVisitor" || message.t === "requestShare" || message.t === "cancelRequest";

export interface AgentConnectionOptions {
  /** A tunnelled agent served for another node: greeted and authorised there, never tunnelled on. */
  tunnelled?: boolean;
}

/** `valid`: whether the credential the socket was opened with still signs this agent in (server/agent-sockets.ts). */
export function agentConnection(hub: Hub, peer: Peer, agent: Pick<Agent, "id" | "groupId" | "username">, ip: string, valid: () => Promise<boolean>, options: AgentConnectionOptions = {}): Connection {
  let greeted = options.tunnelled === true;
  // Several nodes, on the agent's own node: where sessions owned elsewhere are reached.
  const tunnels = options.tunnelled ? undefined : hub.tunnels;
  const cluster = hub.cluster;
  const me = { id: agent.id, username: agent.username, groupId: agent.groupId };
  /** Visitors this console looks at (several nodes: to follow them when they connect elsewhere). */
  const watched = new Set<string>();
  let visits: Promise<void> = Promise.resolve();
  const self = { peer, valid };
  const forget = hub.agentSockets.add(self);
  let joins: Promise<void> = Promise.resolve();
  const group = agent.groupId; // an agent only ever sees and acts within its own group

  function onMessage(message: AgentToServer): void {
    // Signed out, expired, revoked or removed since the socket opened: closed at the last check.
    if (message.t !== "pong" && !hub.agentSockets.authorized(self)) return;
    const current = hub.registry.ofAgent(peer);
    switch (message.t) {
      case "hello":
        return sendError(peer, "INVALID_STATE", "hello was already received on this connection.");
      case "pong":
        return;
      case "join":
        // One join at a time per connection: a burst of guesses cannot outrun the failure count.
        return queueJoin(() => joinByKey(message.key));
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
      case "joinVisitor":
        return queueJoin(() => joinVisitor(message.visitorId));
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
        if (!cluster) return send(peer, { t: "invited", ...invite });
        // Several nodes: the colleague's console may reach another node, which must find this one.
        void cluster
          .remember("invite", invite.token, invite.expiresAt - Date.now())
          .catch(() => {}) // Redis unreachable: the link still works on this node
          .then(() => send(peer, { t: "invited", ...invite }));
        return;
      }
      case "joinInvite":
        return queueJoin(() => joinInvite(message.token));
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

  function queueJoin(join: () => Promise<void>): void {
    tunnels?.shut(peer, "session"); // leaving a session owned elsewhere for whichever this join finds
    joins = joins
      // The credential is looked up again before every join: a revoked one is closed before it gets in.
      .then(async () => {
        if (await hub.agentSockets.check(self)) await join();
      })
      .catch((error) => {
        if (error instanceof CredentialUnchecked) return sendError(peer, "NOT_READY", "This server cannot reach its database to check your sign-in. Try again in a moment.");
        if (error instanceof RedisUnreachable) return sendError(peer, "NOT_READY", "This server node cannot reach Redis, where it finds sessions on other nodes. Try again in a moment.");
        console.error("glimpse: join failed", error);
        sendError(peer, "INTERNAL");
      });
  }

  /** Keys are guessable by brute force only as fast as failures are allowed (server/limits.ts). */
  async function joinByKey(typed: string): Promise<void> {
    const key = normalizeKey(typed);
    if (!key) return sendError(peer, "KEY_INVALID");
    const wait = await hub.limits.joinBlockedFor(agent.id, ip, key);
    if (wait > 0) return sendError(peer, "RATE_LIMITED", retryMessage(wait));
    const found = hub.registry.lookup(group, key, "random");
    if ("code" in found && found.code === "KEY_NOT_FOUND") {
      const there = await elsewhere("random", key, JSON.stringify({ t: "join", key }));
      if (there === "tunnelled") return;
      if (there) return joinSession(hub, there, peer, agent.username);
    }
    if ("code" in found) {
      await hub.limits.joinFailed(agent.id, ip, key);
      return sendError(peer, found.code);
    }
    joinSession(hub, found.session, peer, agent.username);
  }

  /** Into a session another node owns: out of any session here, and `first` (the join) goes there. */
  function tunnelToSession(node: string, first: string): void {
    if (hub.registry.ofAgent(peer)) hub.registry.leave(peer);
    tunnels!.open(node, peer, "session", me, ip, first);
  }

  async function joinInvite(token: string): Promise<void> {
    const invite = hub.invites.redeem(group, token);
    if (!invite && tunnels && cluster) {
      // Several nodes: made on the node that owns its session; the join goes there.
      const node = await cluster.whereIs("invite", token).catch(() => null);
      if (node && node !== cluster.nodeId && (await cluster.alive(node).catch(() => false))) return tunnelToSession(node, JSON.stringify({ t: "joinInvite", token }));
    }
    // Its session may have ended since (the registry no longer has that very session).
    const live = invite && hub.registry.lookup(group, invite.session.key, invite.session.keyType);
    if (!live || !("session" in live) || live.session !== invite.session) return sendError(peer, "INVITE_INVALID");
    joinSession(hub, invite.session, peer, agent.username);
  }

  async function joinVisitor(visitorId: string): Promise<void> {
    const found = hub.registry.lookup(group, visitorId, "visitor");
    let session = "session" in found ? found.session : null;
    if (!session) {
      const there = await elsewhere("visitor", visitorId, JSON.stringify({ t: "joinVisitor", visitorId }));
      if (there === "tunnelled") return;
      session = there;
    }
    // The agent whose request started it, and anyone who has been in it (a colleague invited in).
    if (!session || (session.allowedAgent !== agent.username && !session.agentsSeen.has(agent.username))) {
      return sendError(peer, "KEY_NOT_FOUND", "You have no live session with this visitor (it ended, or another agent's request started it).");
    }
    joinSession(hub, session, peer, agent.username);
  }

  /**
   * Several nodes: a session this node does not have. Owned by a live node: tunnel there and
   * forward the join (`first`). Kept by a node that died: take it over here. Otherwise null.
   */
  async function elsewhere(keyType: KeyType, key: string, first: string): Promise<LiveSession | "tunnelled" | null> {
    if (!tunnels || !cluster) return null;
    let owner: string | null;
    try {
      owner = await cluster.owner(group, keyType, key);
      if (owner && owner !== cluster.nodeId && !(await cluster.alive(owner))) owner = null;
    } catch {
      throw new RedisUnreachable();
    }
    if (owner && owner !== cluster.nodeId) {
      tunnelToSession(owner, first);
      return "tunnelled";
    }
    return hub.registry.adopt(group, keyType, key);
  }

  /**
   * Several nodes: a message about a visitor goes to the node their browser is connected to (a
   * tunnel per visitor), or is handled here when it is this one or none. In order, one at a time.
   */
  function routeVisitor(message: VisitorMessage, text: string): void {
    visits = visits
      .then(async () => {
        if (!hub.agentSockets.authorized(self)) return;
        const purpose = `visitor:${message.visitorId}` as const;
        if (message.t === "watchVisitor") watched.add(message.visitorId);
        if (message.t === "unwatchVisitor") watched.delete(message.visitorId);
        if (!tunnels!.nodeOf(peer, purpose) && message.t !== "unwatchVisitor" && !hub.presence.isOnline(group, message.visitorId)) {
          const home = await cluster!.home(group, message.visitorId).catch(() => null); // Redis unreachable: what this node knows
          if (home && home.node !== cluster!.nodeId) {
            hub.presence.unwatch(peer, group, message.visitorId);
            return tunnels!.open(home.node, peer, purpose, me, ip, text);
          }
        }
        if (!tunnels!.nodeOf(peer, purpose)) return onMessage(message);
        tunnels!.forward(peer, purpose, text);
        if (message.t === "unwatchVisitor") tunnels!.shut(peer, purpose);
      })
      .catch((error) => {
        console.error("glimpse: visitor message failed", error);
        sendError(peer, "INTERNAL");
      });
  }

  /** A visitor this console looks at connected to `node`: follow them there (or back here). */
  function visitorMoved(groupId: string, visitorId: string, node: string): void {
    if (groupId !== group || !watched.has(visitorId)) return;
    const purpose = `visitor:${visitorId}` as const;
    const current = tunnels!.nodeOf(peer, purpose);
    if (current === node) return;
    const watch = JSON.stringify({ t: "watchVisitor", visitorId });
    if (node === cluster!.nodeId) {
      if (!current) return; // watched here already: the presence registry told this console
      tunnels!.shut(peer, purpose);
      return onMessage({ t: "watchVisitor", visitorId });
    }
    hub.presence.unwatch(peer, group, visitorId);
    tunnels!.open(node, peer, purpose, me, ip, watch);
  }

  const unregister = tunnels?.register(peer, {
    username: agent.username,
    act: (text) => {
      const parsed = parseAgentMessage(text);
      if (!parsed.ok) return;
      if (isVisitorMessage(parsed.value)) return routeVisitor(parsed.value, text);
      onMessage(parsed.value);
    },
    visitorMoved,
  });

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
      if (tunnels?.nodeOf(peer, "session") && SESSION_MESSAGES.has(parsed.value.t)) {
        if (hub.agentSockets.authorized(self)) tunnels.forward(peer, "session", text);
        return;
      }
      if (tunnels && isVisitorMessage(parsed.value)) return routeVisitor(parsed.value, text);
      onMessage(parsed.value);
    },
    greeted: () => greeted,
    onClose() {
      unregister?.();
      tunnels?.shutAll(peer);
      forget();
      hub.requests.agentGone(peer);
      hub.registry.leave(peer);
      hub.presence.agentGone(peer);
    },
  };
}
