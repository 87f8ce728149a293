/**
 * Agents whose socket is on one node and whose session or visitor is on another (server/cluster.ts).
 *
 * On the agent's node, a tunnel forwards what the agent sends about one thing — its session
 * ("session") or a visitor it looks at ("visitor:<id>": presence, share requests) — to the node
 * that has it, and writes back what that node sends. An agent socket has at most one tunnel per
 * purpose. On the far node, each tunnel is a `RemotePeer` served by the ordinary agent handler: the
 * session or visitor sees one more agent connection, and every rule applies to it as to a local
 * one. Either end notices the other node's death (its heartbeat key expires) and lets go: the far
 * node drops the agent, the agent's node closes a session tunnel's socket with 1012 so that the
 * console reconnects and rejoins the key (served by whichever node has the session by then), and
 * routes a visitor tunnel's messages afresh.
 */
import type { BusHeader, Cluster } from "./cluster";
import { NODE_TTL_MS } from "./cluster";
import type { Connection } from "./hub";
import { Outgoing } from "./outgoing";
import type { Peer } from "./peer";

export type TunnelAgent = Extract<BusHeader, { k: "open" }>["agent"];
export type Purpose = "session" | `visitor:${string}`;

/** Ids of remote peers never meet those of sockets (server/socket.ts counts from 1). */
let nextRemoteId = 2 ** 40;
let nextTunnelId = 1;

/**
 * What goes to another node's agents, in order, until the end of this turn of the event loop: one
 * message a session fans out to several agents of that node (the same `Outgoing`) crosses Redis
 * once, naming every tunnel, and is framed once there for all of them.
 */
class NodeQueue {
  private entries: (
    | { k: "out"; tunnels: number[]; message: string | Buffer | Outgoing }
    | { k: "close"; tunnel: number; code: number; reason: string }
    | { k: "inject"; tunnel: number; text: string }
  )[] = [];

  constructor(
    private readonly cluster: Cluster,
    private readonly node: string,
  ) {}

  send(tunnel: number, message: string | Buffer | Outgoing): void {
    const last = this.entries.at(-1);
    if (message instanceof Outgoing && last?.k === "out" && last.message === message) last.tunnels.push(tunnel);
    else this.add({ k: "out", tunnels: [tunnel], message });
  }

  close(tunnel: number, code: number, reason: string): void {
    this.add({ k: "close", tunnel, code, reason });
  }

  inject(tunnel: number, text: string): void {
    this.add({ k: "inject", tunnel, text });
  }

  private add(entry: NodeQueue["entries"][number]): void {
    if (this.entries.length === 0) queueMicrotask(() => this.flush());
    this.entries.push(entry);
  }

  private flush(): void {
    const entries = this.entries;
    this.entries = [];
    for (const entry of entries) {
      if (entry.k === "close") this.cluster.publish(this.node, entry);
      else if (entry.k === "inject") this.cluster.publish(this.node, { k: "inject", tunnel: entry.tunnel }, entry.text);
      else this.cluster.publish(this.node, { k: "out", tunnels: entry.tunnels }, entry.message instanceof Outgoing ? entry.message.data : entry.message);
    }
  }
}

/** An agent socket on another node, as the serving node's logic sees it. */
export class RemotePeer implements Peer {
  readonly id = nextRemoteId++;

  constructor(
    private readonly queue: NodeQueue,
    readonly node: string,
    readonly tunnel: number,
    /** The agent's username. */
    readonly agent: string,
    private readonly onClose: () => void,
  ) {}

  sendRaw(message: string | Buffer | Outgoing): void {
    this.queue.send(this.tunnel, message);
  }

  close(code: number, reason: string): void {
    this.queue.close(this.tunnel, code, reason);
    this.onClose();
  }

  /** The agent acts on `text` on its own node, after everything sent to it before. */
  inject(text: string): void {
    this.queue.inject(this.tunnel, text);
  }
}

export interface LocalAgent {
  username: string;
  /** Act on `text` as if the console had sent it. */
  act(text: string): void;
  visitorMoved(groupId: string, visitorId: string, node: string): void;
}

interface Outbound {
  id: number;
  peer: Peer;
  node: string;
  purpose: Purpose;
}

export class Tunnels {
  /** Tunnels from agent sockets of this node, by tunnel id. */
  private readonly outbound = new Map<number, Outbound>();
  /** The same, by agent socket and purpose. */
  private readonly byPeer = new Map<Peer, Map<Purpose, Outbound>>();
  /** Agents of other nodes served here: "node:tunnel id" → their peer and handler. */
  private readonly inbound = new Map<string, { peer: RemotePeer; connection: Connection }>();
  /** What goes to each other node's agents, in order. */
  private readonly queues = new Map<string, NodeQueue>();
  /** This node's agent connections: to make them act on a message (`inject`), and follow visitors. */
  private readonly local = new Map<Peer, LocalAgent>();
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

  /** An agent connection of this node. */
  register(peer: Peer, agent: LocalAgent): () => void {
    this.local.set(peer, agent);
    return () => this.local.delete(peer);
  }

  /** A visitor's browser connected to `node` (broadcast by that node): agents looking at them follow. */
  visitorMoved(groupId: string, visitorId: string, node: string): void {
    for (const agent of this.local.values()) agent.visitorMoved(groupId, visitorId, node);
  }

  /** The node a tunnel of this agent socket leads to, if it has one for `purpose`. */
  nodeOf(peer: Peer, purpose: Purpose): string | null {
    return this.byPeer.get(peer)?.get(purpose)?.node ?? null;
  }

  /** Tunnel an agent socket to `node` for `purpose`; `first` is the message that needs it. */
  open(node: string, peer: Peer, purpose: Purpose, agent: TunnelAgent, ip: string, first: string): void {
    this.shut(peer, purpose);
    const tunnel: Outbound = { id: nextTunnelId++, peer, node, purpose };
    this.outbound.set(tunnel.id, tunnel);
    let mine = this.byPeer.get(peer);
    if (!mine) this.byPeer.set(peer, (mine = new Map()));
    mine.set(purpose, tunnel);
    this.cluster.publish(node, { k: "open", from: this.cluster.nodeId, tunnel: tunnel.id, agent, ip });
    this.forward(peer, purpose, first);
  }

  forward(peer: Peer, purpose: Purpose, text: string): void {
    const tunnel = this.byPeer.get(peer)?.get(purpose);
    if (tunnel) this.cluster.publish(tunnel.node, { k: "in", from: this.cluster.nodeId, tunnel: tunnel.id }, text);
  }

  /** That tunnel is no longer needed (left, unwatched, moved): the far node drops its agent. */
  shut(peer: Peer, purpose: Purpose): void {
    const tunnel = this.byPeer.get(peer)?.get(purpose);
    if (!tunnel) return;
    this.forget(tunnel);
    this.cluster.publish(tunnel.node, { k: "gone", from: this.cluster.nodeId, tunnel: tunnel.id });
  }

  /** The agent socket closed: every tunnel it had goes. */
  shutAll(peer: Peer): void {
    for (const purpose of [...(this.byPeer.get(peer)?.keys() ?? [])]) this.shut(peer, purpose);
  }

  /** Make the agent behind `peer` act on `text` as if its console had sent it (a local socket, or one tunnelled here). */
  inject(peer: object, text: string): void {
    if (peer instanceof RemotePeer) return peer.inject(text);
    this.local.get(peer as Peer)?.act(text);
  }

  /** The username of the agent behind an agent connection of this node (its own, or tunnelled here). */
  agentOf(peer: Peer): string | null {
    return peer instanceof RemotePeer ? peer.agent : (this.local.get(peer)?.username ?? null);
  }

  /** Agents served here for other nodes (metrics, tests). */
  get served(): number {
    return this.inbound.size;
  }

  stop(): void {
    clearInterval(this.sweeper);
    for (const { connection } of [...this.inbound.values()]) connection.onClose();
    this.inbound.clear();
  }

  private forget(tunnel: Outbound): void {
    this.outbound.delete(tunnel.id);
    const mine = this.byPeer.get(tunnel.peer);
    mine?.delete(tunnel.purpose);
    if (mine?.size === 0) this.byPeer.delete(tunnel.peer);
  }

  private onBus(header: BusHeader, payload: Buffer): void {
    switch (header.k) {
      case "open": {
        const id = `${header.from}:${header.tunnel}`;
        this.drop(id);
        let queue = this.queues.get(header.from);
        if (!queue) this.queues.set(header.from, (queue = new NodeQueue(this.cluster, header.from)));
        const peer = new RemotePeer(queue, header.from, header.tunnel, header.agent.username, () => this.drop(id));
        this.inbound.set(id, { peer, connection: this.serve(peer, header.agent, header.ip) });
        return;
      }
      case "in":
        return this.inbound.get(`${header.from}:${header.tunnel}`)?.connection.onText(payload.toString(), payload);
      case "gone":
        return this.drop(`${header.from}:${header.tunnel}`);
      case "out": {
        // Framed (and deflated) once for every agent of this node it goes to.
        const message = header.tunnels.length > 1 ? new Outgoing(payload) : payload;
        for (const id of header.tunnels) this.outbound.get(id)?.peer.sendRaw(message);
        return;
      }
      case "inject": {
        const tunnel = this.outbound.get(header.tunnel);
        if (tunnel) this.local.get(tunnel.peer)?.act(payload.toString());
        return;
      }
      case "close": {
        const tunnel = this.outbound.get(header.tunnel);
        if (!tunnel) return;
        this.forget(tunnel);
        // Only a session is worth a reconnect; a visitor tunnel is routed afresh by its next message.
        if (tunnel.purpose === "session") tunnel.peer.close(header.code, header.reason);
        return;
      }
    }
  }

  /** The far end of a tunnel served here goes: as if its socket had closed. */
  private drop(id: string): void {
    const end = this.inbound.get(id);
    if (!end) return;
    this.inbound.delete(id);
    end.connection.onClose();
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
      for (const tunnel of [...this.outbound.values()]) {
        if (tunnel.node !== node) continue;
        this.forget(tunnel);
        if (tunnel.purpose === "session") tunnel.peer.close(1012, "session moving to another node");
        else this.local.get(tunnel.peer)?.act(JSON.stringify({ t: "watchVisitor", visitorId: tunnel.purpose.slice("visitor:".length) }));
      }
      for (const [id, end] of [...this.inbound]) if (end.peer.node === node) this.drop(id);
      this.queues.delete(node);
    }
  }
}
