/**
 * Several nodes behind one load balancer (GLIMPSE_REDIS_URL set): who owns which session, which
 * nodes are alive, and a bus between nodes. Plan and reasons: server/multinode.design.md.
 *
 * A session is owned by the node that holds its visitor's socket; the owner keeps the whole live
 * session in memory as a single node does, and its record in Redis names the owner. An agent whose
 * socket reached another node is tunnelled to the owner: the agent's node forwards what the agent
 * sends about the session (server/tunnel.ts), the owner runs the same agent handler for it and
 * sends back through the bus. Every rule (who may join, control, audit) stays in one place.
 *
 * Redis holds no page content: relayed frames cross the bus and are never stored.
 */
import { Redis } from "ioredis";
import { createHash, randomBytes } from "node:crypto";
import type { KeyType } from "../src/protocol";

/** A node's liveness key lives this long unless refreshed (every third of it). */
export const NODE_TTL_MS = 4_500;

/** What one node asks another and waits for (`Cluster.ask`). */
export type Question =
  /** A carried resource for an agent of the session the asked node owns (server/asset-routes.ts). */
  | { q: "asset"; groupId: string; key: string; agent: string; url: string }
  /** A session connection here presents a ticket for a share request accepted on the asked node. */
  | { q: "redeem"; groupId: string; ticket: string }
  /** A visitor's presence, from the node its browser is connected to. */
  | { q: "presence"; groupId: string; visitorId: string };

/** The header of a bus message; the payload (frames, text, bytes) follows a newline, as raw bytes. */
export type BusHeader =
  /** Agent's node → far node: a tunnel for an agent socket of `from` (server/tunnel.ts). */
  | { k: "open"; from: string; tunnel: number; agent: { id: number; username: string; groupId: string }; ip: string }
  /** Agent's node → far node: a message the agent sent (payload), handled as if it came on a socket there. */
  | { k: "in"; from: string; tunnel: number }
  /** Agent's node → far node: the tunnel is no longer needed (socket closed, agent moved on). */
  | { k: "gone"; from: string; tunnel: number }
  /** Far node → agent's node: send the payload to the agent sockets of these tunnels (one message per fan-out). */
  | { k: "out"; tunnels: number[] }
  /** Far node → agent's node: close the tunnel (a session: and the socket, so that the console rejoins). */
  | { k: "close"; tunnel: number; code: number; reason: string }
  /** Far node → agent's node: the agent acts on the payload as if its console had sent it. */
  | { k: "inject"; tunnel: number }
  /** New owner → old owner: this session's visitor resumed on another node; let it go. */
  | { k: "release"; groupId: string; keyType: KeyType; key: string }
  /** Session's node → the visitor's node: the session an accepted request asked for has started. */
  | { k: "started"; groupId: string; visitorId: string; requestId: string }
  /** Old home → new home: the visitor's open (pending or displayed) share request, to carry on there. */
  | { k: "handover"; request: { id: string; groupId: string; visitorId: string; agent: string; verified: boolean; state: "pending" | "displayed"; expiresAt: number } }
  /** To every node: a visitor's browser is connected to `node` now (agents looking at them follow). */
  | { k: "home"; groupId: string; visitorId: string; node: string }
  /** A sign-in ended on some node: every node checks its open agent sockets now. */
  | { k: "signedOut" }
  | { k: "ask"; from: string; id: number; question: Question }
  /** The answer to `id`; bytes (a resource) in the payload. */
  | { k: "reply"; id: number; answer: unknown };

type Reply = Extract<BusHeader, { k: "reply" }>;
export type Answerer = (question: Question) => Promise<{ answer: unknown; payload?: Buffer }>;

export type BusHandler = (header: BusHeader, payload: Buffer) => void;

const NEWLINE = 0x0a;
const nodeKey = (node: string) => `glimpse:node:${node}`;
const channel = (node: string) => `glimpse:bus:${node}`;
/** Every node listens here too. */
const EVERYONE = "glimpse:bus:*all*";
const homeKey = (groupId: string, visitorId: string) => `glimpse:home:${groupId}:${visitorId}`;
/** Where a one-time secret handed out by a node (a share request's ticket, an invitation) can be used. */
const secretKey = (kind: SecretKind, secret: string) => `glimpse:${kind}:${createHash("sha256").update(secret).digest("hex")}`;
export type SecretKind = "ticket" | "invite";
const sessionKey = (groupId: string, keyType: KeyType, key: string) => `glimpse:session:${groupId}:${keyType}:${key}`;

/** Delete a record only while it still names this node (a newer owner's record stays). */
const DELETE_IF_OWNER = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) else return 0 end`;

export interface ClusterOptions {
  url: string;
  /** Unique per process; a random one by default (a restarted node is a new node). */
  nodeId?: string;
}

export class Cluster {
  readonly nodeId: string;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly handlers: BusHandler[] = [];
  private readonly reconnected: (() => void)[] = [];
  private started = false;
  private readonly asked = new Map<number, (answer: { header: Reply; payload: Buffer } | null) => void>();
  private answerer: Answerer | null = null;
  private nextAsk = 1;
  private heartbeat: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: ClusterOptions) {
    this.nodeId = options.nodeId || randomBytes(6).toString("hex");
    // Commands fail at once while Redis is unreachable (clients get NOT_READY) rather than queue
    // behind a dead connection; ioredis keeps reconnecting and the node recovers when it returns.
    const settings = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, retryStrategy: (times: number) => Math.min(times * 200, 2_000) };
    this.redis = new Redis(options.url, settings);
    this.subscriber = new Redis(options.url, { ...settings, enableOfflineQueue: true });
    for (const client of [this.redis, this.subscriber]) client.on("error", () => {}); // status is read by ready(); ioredis logs nothing itself
    this.subscriber.on("messageBuffer", (_channel: Buffer, message: Buffer) => this.dispatch(message));
    // Back after Redis was gone (it may have lost everything): alive again at once, records again.
    this.redis.on("ready", () => {
      if (!this.started) return;
      void this.beat();
      for (const handler of this.reconnected) handler();
    });
  }

  /** Connect, subscribe to this node's channel and start the liveness heartbeat. */
  async start(): Promise<void> {
    await Promise.all([this.redis.connect(), this.subscriber.connect()]);
    await this.subscriber.subscribe(channel(this.nodeId), EVERYONE);
    await this.beat();
    this.started = true;
    this.heartbeat = setInterval(() => void this.beat(), NODE_TTL_MS / 3);
    this.heartbeat.unref();
  }

  /** The command connection, for what keeps its own data in Redis (server/limits.ts). */
  get client(): Redis {
    return this.redis;
  }

  /** Redis is reachable from this node (readiness). */
  ready(): boolean {
    return this.redis.status === "ready" && this.subscriber.status === "ready";
  }

  /** Redis is reachable again after it was not: records it may have lost are to be written again. */
  onReconnect(handler: () => void): void {
    this.reconnected.push(handler);
  }

  onMessage(handler: BusHandler): void {
    this.handlers.push(handler);
  }

  /** Send to another node's bus; Redis keeps the order of one publisher's messages on a channel. */
  publish(node: string, header: BusHeader, payload: string | Buffer = ""): void {
    if (this.closed || this.redis.status !== "ready") return;
    const head = Buffer.from(JSON.stringify(header) + "\n");
    const body = typeof payload === "string" ? Buffer.from(payload) : payload;
    this.redis.publish(channel(node), Buffer.concat([head, body], head.length + body.length)).catch(() => {});
  }

  /** Send to every node (this one too). */
  broadcast(header: BusHeader): void {
    if (this.closed || this.redis.status !== "ready") return;
    this.redis.publish(EVERYONE, JSON.stringify(header) + "\n").catch(() => {});
  }

  /** Ask another node and wait for its answer (null after `timeoutMs`, or when it cannot be asked). */
  ask(node: string, question: Question, timeoutMs: number): Promise<{ answer: unknown; payload: Buffer } | null> {
    const id = this.nextAsk++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (reply: { header: Reply; payload: Buffer } | null) => {
        clearTimeout(timer);
        this.asked.delete(id);
        resolve(reply && { answer: reply.header.answer, payload: reply.payload });
      };
      this.asked.set(id, settle);
      this.publish(node, { k: "ask", from: this.nodeId, id, question });
    });
  }

  /** What this node answers when asked. */
  answer(answerer: Answerer): void {
    this.answerer = answerer;
  }

  /** The node that owns a session, or null when no node has it. Rejects while Redis is unreachable. */
  owner(groupId: string, keyType: KeyType, key: string): Promise<string | null> {
    return this.redis.get(sessionKey(groupId, keyType, key));
  }

  /** This node owns the session now; the previous owner (if another node) is returned, to be told. */
  async claim(groupId: string, keyType: KeyType, key: string): Promise<string | null> {
    const previous = await this.redis.set(sessionKey(groupId, keyType, key), this.nodeId, "GET");
    return previous && previous !== this.nodeId ? previous : null;
  }

  /** The session ended here: forget the record (unless another node has taken it since). */
  async disown(groupId: string, keyType: KeyType, key: string): Promise<void> {
    await this.redis.eval(DELETE_IF_OWNER, 1, sessionKey(groupId, keyType, key), this.nodeId);
  }

  /**
   * A visitor's browser is connected here now: record it (with whether it proved the visitor's
   * identity) and tell every node.
   */
  async claimHome(groupId: string, visitorId: string, verified: boolean): Promise<void> {
    await this.redis.set(homeKey(groupId, visitorId), JSON.stringify({ node: this.nodeId, verified }));
    this.broadcast({ k: "home", groupId, visitorId, node: this.nodeId });
  }

  /** Where a visitor's browser is connected, if on a live node. Rejects while Redis is unreachable. */
  async home(groupId: string, visitorId: string): Promise<{ node: string; verified: boolean } | null> {
    const text = await this.redis.get(homeKey(groupId, visitorId));
    if (!text) return null;
    const home = JSON.parse(text) as { node: string; verified: boolean };
    return (await this.alive(home.node)) ? home : null;
  }

  /** The visitor's last browser here went (unless it has connected to another node since). */
  async leaveHome(groupId: string, visitorId: string): Promise<void> {
    const key = homeKey(groupId, visitorId);
    const text = await this.redis.get(key);
    if (text && (JSON.parse(text) as { node: string }).node === this.nodeId) await this.redis.eval(DELETE_IF_OWNER, 1, key, text);
  }

  /**
   * This node handed out a one-time secret (a share request's ticket, an invitation link): any
   * node can find where it is redeemed. Only its hash is stored, for its lifetime.
   */
  async remember(kind: SecretKind, secret: string, ttlMs: number): Promise<void> {
    await this.redis.set(secretKey(kind, secret), this.nodeId, "PX", Math.max(1, Math.round(ttlMs)));
  }

  async whereIs(kind: SecretKind, secret: string): Promise<string | null> {
    return this.redis.get(secretKey(kind, secret));
  }

  /** Whether a node is alive (its heartbeat key has not expired). */
  async alive(node: string): Promise<boolean> {
    if (node === this.nodeId) return !this.closed;
    return (await this.redis.exists(nodeKey(node))) === 1;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.redis.del(nodeKey(this.nodeId)).catch(() => {});
    this.redis.disconnect();
    this.subscriber.disconnect();
  }

  private async beat(): Promise<void> {
    if (this.closed) return;
    await this.redis.set(nodeKey(this.nodeId), String(Date.now()), "PX", NODE_TTL_MS).catch(() => {});
  }

  private async reply(ask: Extract<BusHeader, { k: "ask" }>): Promise<void> {
    if (!this.answerer) return;
    try {
      const { answer, payload } = await this.answerer(ask.question);
      this.publish(ask.from, { k: "reply", id: ask.id, answer: answer ?? null }, payload ?? "");
    } catch (error) {
      console.error("glimpse: could not answer another node", error);
    }
  }

  private dispatch(message: Buffer): void {
    const end = message.indexOf(NEWLINE);
    if (end < 0) return;
    let header: BusHeader;
    try {
      header = JSON.parse(message.subarray(0, end).toString()) as BusHeader;
    } catch {
      return; // only nodes publish here; a malformed message is dropped
    }
    const payload = message.subarray(end + 1);
    if (header.k === "reply") return this.asked.get(header.id)?.({ header, payload });
    if (header.k === "ask") return void this.reply(header);
    for (const handler of this.handlers) handler(header, payload);
  }
}
