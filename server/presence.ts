/**
 * Presence (one-click flow): which visitors are online, on which page, who watches them, and
 * signals to them. One browser per visitor ID is signalable — the most recent; the one before
 * gets presenceBlur. A browser without a verified identity never displaces a verified one (it is
 * refused: anyone can claim a visitor ID, only the site can sign it). Signals to a visitor who is
 * reconnecting are held for a few seconds.
 */
import type { Page } from "../src/protocol";
import { send, type Peer } from "./peer";

interface Visitor {
  groupId: string;
  visitorId: string;
  /** Connected presence sockets, the signalable one last. */
  peers: Peer[];
  /** Which of them proved the visitor's identity with a token. */
  verifiedPeers: Set<Peer>;
  page: Page | null;
  visible: boolean;
  verified: boolean;
  name: string | null;
}

/** How long a signal waits for a visitor whose presence connection dropped. */
export const SIGNAL_BUFFER_MS = 8_000;

export class PresenceRegistry {
  private readonly visitors = new Map<string, Visitor>();
  private readonly byPeer = new Map<Peer, Visitor>();
  private readonly watchers = new Map<string, Set<Peer>>();
  private readonly watching = new Map<Peer, Set<string>>();
  private readonly buffered = new Map<string, { text: string; until: number }[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Visitors online (one per group and visitor ID). */
  get size(): number {
    return this.visitors.size;
  }

  /** Every visitor with a browser connected here. */
  *online(): IterableIterator<{ groupId: string; visitorId: string; verified: boolean }> {
    for (const visitor of this.visitors.values()) if (visitor.peers.length > 0) yield visitor;
  }

  /** False (nothing changed) when an unverified browser would displace a verified one. */
  connect(groupId: string, visitorId: string, peer: Peer, info: { verified: boolean; name: string | null }): boolean {
    const id = key(groupId, visitorId);
    let visitor = this.visitors.get(id);
    if (visitor && !info.verified && visitor.verifiedPeers.size > 0) return false;
    if (!visitor) {
      visitor = { groupId, visitorId, peers: [], verifiedPeers: new Set(), page: null, visible: false, verified: info.verified, name: info.name };
      this.visitors.set(id, visitor);
    }
    if (info.verified) visitor.verifiedPeers.add(peer);
    const previous = visitor.peers.at(-1);
    if (previous) send(previous, { t: "presenceBlur" });
    visitor.peers.push(peer);
    visitor.verified = info.verified;
    visitor.name = info.name ?? visitor.name;
    this.byPeer.set(peer, visitor);
    for (const pending of this.buffered.get(id)?.splice(0) ?? []) if (pending.until >= this.now()) peer.sendRaw(pending.text);
    this.buffered.delete(id);
    this.announce(visitor);
    return true;
  }

  /** Whether this presence connection is the visitor's signalable browser (the one a request goes to). */
  isSignalable(peer: Peer): boolean {
    const visitor = this.byPeer.get(peer);
    return visitor !== undefined && visitor.peers.at(-1) === peer;
  }

  update(peer: Peer, page: Page, visible: boolean): void {
    const visitor = this.byPeer.get(peer);
    if (!visitor) return;
    // The signalable browser is the one the visitor uses now (never an unverified one over a verified one).
    const outranked = !visitor.verifiedPeers.has(peer) && visitor.verifiedPeers.size > 0;
    if (visible && visitor.peers.at(-1) !== peer && !outranked) {
      const previous = visitor.peers.at(-1);
      visitor.peers = [...visitor.peers.filter((p) => p !== peer), peer];
      if (previous) send(previous, { t: "presenceBlur" });
    }
    if (visitor.peers.at(-1) !== peer) return; // the page of a browser in the background is not shown
    visitor.page = page;
    visitor.visible = visible;
    this.announce(visitor);
  }

  disconnect(peer: Peer): void {
    const visitor = this.byPeer.get(peer);
    if (!visitor) return;
    this.byPeer.delete(peer);
    visitor.peers = visitor.peers.filter((p) => p !== peer);
    visitor.verifiedPeers.delete(peer);
    visitor.verified = visitor.peers.length > 0 && visitor.verifiedPeers.has(visitor.peers.at(-1)!);
    if (visitor.peers.length === 0) {
      visitor.page = null;
      visitor.visible = false;
    }
    this.announce(visitor);
    if (visitor.peers.length === 0 && !this.watchers.has(key(visitor.groupId, visitor.visitorId))) {
      this.visitors.delete(key(visitor.groupId, visitor.visitorId));
    }
    this.lastGone.set(key(visitor.groupId, visitor.visitorId), this.now());
  }

  private readonly lastGone = new Map<string, number>();

  isOnline(groupId: string, visitorId: string): boolean {
    return (this.visitors.get(key(groupId, visitorId))?.peers.length ?? 0) > 0;
  }

  /**
   * Send a signal to the visitor's signalable browser. Returns false when the visitor is offline
   * and was not seen in the last SIGNAL_BUFFER_MS (nothing is held then).
   */
  signal(groupId: string, visitorId: string, text: string): boolean {
    const id = key(groupId, visitorId);
    const target = this.visitors.get(id)?.peers.at(-1);
    if (target) {
      target.sendRaw(text);
      return true;
    }
    const gone = this.lastGone.get(id);
    if (gone === undefined || this.now() - gone > SIGNAL_BUFFER_MS) return false;
    const list = this.buffered.get(id) ?? [];
    list.push({ text, until: this.now() + SIGNAL_BUFFER_MS });
    this.buffered.set(id, list);
    return true;
  }

  watch(agent: Peer, groupId: string, visitorId: string): void {
    const id = key(groupId, visitorId);
    let set = this.watchers.get(id);
    if (!set) this.watchers.set(id, (set = new Set()));
    set.add(agent);
    let mine = this.watching.get(agent);
    if (!mine) this.watching.set(agent, (mine = new Set()));
    mine.add(id);
    send(agent, this.presenceMessage(groupId, visitorId));
  }

  unwatch(agent: Peer, groupId: string, visitorId: string): void {
    const id = key(groupId, visitorId);
    this.watchers.get(id)?.delete(agent);
    if (this.watchers.get(id)?.size === 0) this.watchers.delete(id);
    this.watching.get(agent)?.delete(id);
  }

  agentGone(agent: Peer): void {
    for (const id of this.watching.get(agent) ?? []) {
      this.watchers.get(id)?.delete(agent);
      if (this.watchers.get(id)?.size === 0) this.watchers.delete(id);
    }
    this.watching.delete(agent);
  }

  /** The agents' connections watching this visitor. */
  watchersOf(groupId: string, visitorId: string): ReadonlySet<Peer> {
    return this.watchers.get(key(groupId, visitorId)) ?? new Set();
  }

  /** Send to every agent watching this visitor (all of the same group, by construction). */
  toWatchers(groupId: string, visitorId: string, text: string): void {
    for (const agent of this.watchers.get(key(groupId, visitorId)) ?? []) agent.sendRaw(text);
  }

  /** The visitor's presence now, as agents see it (also for the HTTP API). */
  snapshot(groupId: string, visitorId: string) {
    return this.presenceMessage(groupId, visitorId);
  }

  private presenceMessage(groupId: string, visitorId: string) {
    const visitor = this.visitors.get(key(groupId, visitorId));
    const online = (visitor?.peers.length ?? 0) > 0;
    return {
      t: "visitorPresence" as const,
      visitorId,
      online,
      page: online ? (visitor?.page ?? null) : null,
      visible: online && (visitor?.visible ?? false),
      verified: visitor?.verified ?? false,
      name: visitor?.name ?? null,
    };
  }

  private announce(visitor: Visitor): void {
    this.toWatchers(visitor.groupId, visitor.visitorId, JSON.stringify(this.presenceMessage(visitor.groupId, visitor.visitorId)));
  }
}

const key = (groupId: string, visitorId: string) => `${groupId}:${visitorId}`;
