/**
 * Agents whose socket is on one node and whose session is owned by another (server/cluster.ts).
 *
 * On the agent's node, a tunnelled socket forwards what the agent sends about its session to the
 * owner and writes back what the owner sends it. On the owner, each tunnelled agent is a
 * `RemotePeer` served by the ordinary agent handler: the session sees one more agent, and every
 * rule applies to it as to a local one. Either end notices the other node's death (its heartbeat
 * key expires) and lets go: the owner drops the agent from the session, the agent's node closes
 * the socket with 1012 so that the console reconnects and rejoins the key (served by whichever
 * node has the session by then).
 */
import type { Cluster, BusHeader } from "./cluster";
import { NODE_TTL_MS } from "./cluster";
import type { Connection } from "./hub";
import { Outgoing } from "./outgoing";
import type { Peer } from "./peer";

export type TunnelAgent = Extract<BusHeader, { k: "open" }>["agent"];

/** Ids of remote peers never meet those of sockets (server/socket.ts counts from 1). */
let nextRemoteId = 2 ** 40;

/** An agent socket on another node, as the owner's session logic sees it. */
class RemotePeer implements Peer {
  readonly id = nextRemoteId++;

  constructor(
    private readonly cluster: Cluster,
    readonly node: string,
    readonly remoteId: number,
  ) {}

  sendRaw(message: string | Buffer | Outgoing): void {
    this.cluster.publish(this.node, { k: "out", peer: this.remoteId }, message instanceof Outgoing ? message.data : message);
  }

  close(code: number, reason: string): void {
    this.cluster.publish(this.node, { k: "close", peer: this.remoteId, code, reason });
  }
}

export class Tunnels {
  /** Agent sockets on this node tunnelled to an owner: socket id → the socket and the owner. */
  private readonly outbound = new Map<number, { peer: Peer; node: string }>();
  /** Agents of other nodes in sessions owned here: "node:socket id" → their peer and handler. */
  private readonly inbound = new Map<string, { peer: RemotePeer; connection: Connection }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly cluster: Cluster,
    /** The agent handler for a tunnelled agent, already greeted and authorised by its node. */
    private readonly serve: (peer: Peer, agent: TunnelAgent, ip: string) => Connection,
  ) {
    cluster.onMessage((header, payload) => this.onBus(header, payload));
    this.sweeper = setInterval(() => void this.sweep(), NODE_TTL_MS);
    this.sweeper.unref();
  }

  /** The owner an agent socket of this node is tunnelled to, if any. */
  ownerOf(peer: Peer): string | null {
    return this.outbound.get(peer.id)?.node ?? null;
  }

  /** Tunnel an agent socket to the node owning the session it joins; `first` is the join itself. */
  open(node: string, peer: Peer, agent: TunnelAgent, ip: string, first: string): void {
    this.shut(peer);
    this.outbound.set(peer.id, { peer, node });
    this.cluster.publish(node, { k: "open", from: this.cluster.nodeId, peer: peer.id, agent, ip });
    this.forward(peer, first);
  }

  forward(peer: Peer, text: string): void {
    const tunnel = this.outbound.get(peer.id);
    if (tunnel) this.cluster.publish(tunnel.node, { k: "in", from: this.cluster.nodeId, peer: peer.id }, text);
  }

  /** The agent socket closed or joins elsewhere: the owner drops it from the session. */
  shut(peer: Peer): void {
    const tunnel = this.outbound.get(peer.id);
    if (!tunnel) return;
    this.outbound.delete(peer.id);
    this.cluster.publish(tunnel.node, { k: "gone", from: this.cluster.nodeId, peer: peer.id });
  }

  /** Agents served here for other nodes (metrics, tests). */
  get served(): number {
    return this.inbound.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const { connection } of this.inbound.values()) connection.onClose();
    this.inbound.clear();
  }

  private onBus(header: BusHeader, payload: Buffer): void {
    switch (header.k) {
      case "open": {
        const id = `${header.from}:${header.peer}`;
        this.inbound.get(id)?.connection.onClose();
        const peer = new RemotePeer(this.cluster, header.from, header.peer);
        this.inbound.set(id, { peer, connection: this.serve(peer, header.agent, header.ip) });
        return;
      }
      case "in":
        return this.inbound.get(`${header.from}:${header.peer}`)?.connection.onText(payload.toString(), payload);
      case "gone": {
        const id = `${header.from}:${header.peer}`;
        this.inbound.get(id)?.connection.onClose();
        this.inbound.delete(id);
        return;
      }
      case "out":
        return this.outbound.get(header.peer)?.peer.sendRaw(payload);
      case "close": {
        const tunnel = this.outbound.get(header.peer);
        if (!tunnel) return;
        this.outbound.delete(header.peer);
        return tunnel.peer.close(header.code, header.reason);
      }
    }
  }

  /** Let go of tunnels to and from nodes that died. */
  private async sweep(): Promise<void> {
    const nodes = new Set([...this.outbound.values()].map((t) => t.node).concat([...this.inbound.values()].map((t) => t.peer.node)));
    for (const node of nodes) {
      let alive: boolean;
      try {
        alive = await this.cluster.alive(node);
      } catch {
        continue; // Redis unreachable: nobody can tell; try again next round
      }
      if (alive) continue;
      for (const [id, tunnel] of this.outbound) {
        if (tunnel.node !== node) continue;
        this.outbound.delete(id);
        tunnel.peer.close(1012, "session moving to another node");
      }
      for (const [id, end] of this.inbound) {
        if (end.peer.node !== node) continue;
        this.inbound.delete(id);
        end.connection.onClose();
      }
    }
  }
}
