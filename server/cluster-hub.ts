/**
 * How the protocol handlers work across nodes (GLIMPSE_REDIS_URL): what a node answers when
 * asked, what it does with what other nodes tell it, and the lookups the handlers make when what
 * they need is on another node. Nothing here runs with one node (hub.cluster unset).
 */
import { answerAsset } from "./asset-routes";
import type { Cluster } from "./cluster";
import { agentConnection } from "./agent-handler";
import type { Hub } from "./hub";
import { joinSession } from "./join";
import { requestMessage } from "./request-events";
import type { Peer } from "./peer";
import type { LiveSession, SessionDirectory, SessionRegistry } from "./sessions";
import type { StoreApi } from "./store";
import { RemotePeer, Tunnels } from "./tunnel";

/** How long a node waits for another to answer a question about a visitor or a ticket. */
const ASK_MS = 5_000;

/** A share request accepted on another node, whose ticket this node's session connection presented. */
export interface RemoteRequest {
  node: string;
  id: string;
  groupId: string;
  visitorId: string;
  agent: string;
  verified: boolean;
}

/** Ownership in Redis follows the sessions this node takes and ends. */
export function sessionDirectory(cluster: Cluster): SessionDirectory {
  return {
    owned(session) {
      // The previous owner (a visitor resumed here) lets go, and its agents rejoin here.
      cluster
        .claim(session.groupId, session.keyType, session.key)
        .then((previous) => previous && cluster.publish(previous, { k: "release", groupId: session.groupId, keyType: session.keyType, key: session.key }))
        .catch((error) => console.error("glimpse: could not record a session's owner in Redis", error));
    },
    ended(session) {
      cluster.disown(session.groupId, session.keyType, session.key).catch(() => {});
    },
  };
}

/** At start: the kept sessions whose owner is gone (or never recorded, or was this node before) are this node's. */
export async function restoreOrphans(cluster: Cluster, store: StoreApi, registry: SessionRegistry): Promise<void> {
  for (const row of await store.liveSessions()) {
    const keyType = row.keyType === "visitor" ? "visitor" : "random";
    const owner = await cluster.owner(row.groupId, keyType, row.key);
    if (!owner || owner === cluster.nodeId || !(await cluster.alive(owner))) await registry.adopt(row.groupId, keyType, row.key);
  }
}

/** Wire a hub into its cluster: tunnels for agents, and what other nodes ask and tell. */
export function connectCluster(hub: Hub, cluster: Cluster, directory: SessionDirectory): void {
  const tunnels = new Tunnels(cluster, (peer, agent, ip) => agentConnection(hub, peer, agent, ip, async () => true, { tunnelled: true }));
  hub.tunnels = tunnels;
  // Redis back (maybe empty): the sessions and visitors held here are recorded as this node's again.
  cluster.onReconnect(() => {
    for (const session of hub.registry.all()) directory.owned(session);
    for (const visitor of hub.presence.online()) cluster.claimHome(visitor.groupId, visitor.visitorId, visitor.verified).catch(() => {});
  });
  cluster.onMessage((header) => {
    switch (header.k) {
      case "release":
        return hub.registry.release(header.groupId, header.keyType, header.key);
      case "signedOut":
        return hub.agentSockets.sweep();
      case "started": {
        const request = hub.requests.current(header.groupId, header.visitorId);
        if (!request || request.id !== header.requestId) return;
        hub.requests.started(request);
        if (request.agentPeer) tunnels.inject(request.agentPeer, JSON.stringify({ t: "joinVisitor", visitorId: header.visitorId }));
        return;
      }
      case "home": {
        const open = hub.requests.current(header.groupId, header.visitorId);
        // The visitor's browser went to another node: an unanswered request goes with it (an accepted
        // one stays: its ticket is redeemed here wherever the session starts). Before the consoles
        // follow (below), so that the new home has it when they look again.
        if (open && header.node !== cluster.nodeId && !hub.presence.isOnline(header.groupId, header.visitorId) && (open.state === "pending" || open.state === "displayed")) {
          hub.requests.detach(open);
          const { id, groupId, visitorId, agent, verified, state, expiresAt } = open;
          cluster.publish(header.node, { k: "handover", request: { id, groupId, visitorId, agent, verified, state, expiresAt } });
        }
        return tunnels.visitorMoved(header.groupId, header.visitorId, header.node);
      }
      case "handover": {
        const { groupId, visitorId, agent } = header.request;
        // The requesting agent's console, if it already looks at the visitor here.
        const console = [...hub.presence.watchersOf(groupId, visitorId)].find((peer) => tunnels.agentOf(peer) === agent) ?? null;
        const request = hub.requests.adopt(header.request, console);
        hub.presence.toWatchers(groupId, visitorId, JSON.stringify(requestMessage(request)));
        // The browser that connected here is shown the request again (as after any reconnect).
        hub.presence.signal(groupId, visitorId, JSON.stringify({ t: "shareRequest", id: request.id, agent, expiresAt: request.expiresAt }));
        return;
      }
    }
  });
  cluster.answer(async (question) => {
    switch (question.q) {
      case "asset":
        return answerAsset(hub, question);
      case "presence":
        return { answer: hub.presence.snapshot(question.groupId, question.visitorId) };
      case "redeem": {
        const request = hub.requests.redeem(question.groupId, question.ticket);
        return { answer: request && { id: request.id, groupId: request.groupId, visitorId: request.visitorId, agent: request.agent, verified: request.verified } };
      }
    }
  });
}

/** A ticket this node does not know: the node that handed it out redeems it. */
export async function redeemElsewhere(hub: Hub, groupId: string, ticket: string): Promise<RemoteRequest | null> {
  const cluster = hub.cluster;
  if (!cluster) return null;
  const node = await cluster.whereIs("ticket", ticket).catch(() => null);
  if (!node || node === cluster.nodeId) return null;
  const reply = await cluster.ask(node, { q: "redeem", groupId, ticket }, ASK_MS);
  const request = reply?.answer as Omit<RemoteRequest, "node"> | null | undefined;
  return request && request.groupId === groupId ? { ...request, node } : null;
}

/** Whether a browser that proved this visitor's identity is connected to another node. */
export async function verifiedElsewhere(hub: Hub, groupId: string, visitorId: string): Promise<boolean> {
  const cluster = hub.cluster;
  if (!cluster) return false;
  const home = await cluster.home(groupId, visitorId).catch(() => null);
  return home !== null && home.node !== cluster.nodeId && home.verified;
}

/** A visitor's presence, from whichever node their browser is connected to. */
export async function presenceAnywhere(hub: Hub, groupId: string, visitorId: string) {
  const here = hub.presence.snapshot(groupId, visitorId);
  const cluster = hub.cluster;
  if (here.online || !cluster) return here;
  const home = await cluster.home(groupId, visitorId).catch(() => null);
  if (!home || home.node === cluster.nodeId) return here;
  const reply = await cluster.ask(home.node, { q: "presence", groupId, visitorId }, ASK_MS);
  return (reply?.answer as typeof here | null) ?? here;
}

/**
 * The agent whose accepted request started a one-click session joins it. An agent tunnelled here
 * from another node joins from its own node (which finds the session wherever it is).
 */
export function joinWaitingAgent(hub: Hub, session: LiveSession, agentPeer: object, username: string): void {
  if (agentPeer instanceof RemotePeer) return hub.tunnels?.inject(agentPeer, JSON.stringify({ t: "joinVisitor", visitorId: session.key }));
  joinSession(hub, session, agentPeer as Peer, username);
}
