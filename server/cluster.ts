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
import { randomBytes } from "node:crypto";
import type { AssetSkipReason, KeyType } from "../src/protocol";

/** A node's liveness key lives this long unless refreshed (every third of it). */
export const NODE_TTL_MS = 4_500;

/** The header of a bus message; the payload (frames, text) follows a newline, as raw bytes. */
export type BusHeader =
  /** Agent's node → owner: an agent socket of `from` is tunnelled to a session here. */
  | { k: "open"; from: string; peer: number; agent: { id: number; username: string; groupId: string }; ip: string }
  /** Agent's node → owner: a message the agent sent (payload), handled as if it came on a socket here. */
  | { k: "in"; from: string; peer: number }
  /** Agent's node → owner: the agent's socket closed, or it moved to another session. */
  | { k: "gone"; from: string; peer: number }
  /** Owner → agent's node: send the payload to that agent socket. */
  | { k: "out"; peer: number }
  /** Owner → agent's node: close that agent socket (the session moved: the console rejoins). */
  | { k: "close"; peer: number; code: number; reason: string }
  /** New owner → old owner: this session's visitor resumed on another node; let it go. */
  | { k: "release"; groupId: string; keyType: KeyType; key: string }
  /** Agent's node → owner: a carried resource for an agent of the session (server/asset-routes.ts). */
  | { k: "asset"; from: string; id: number; groupId: string; key: string; agent: string; url: string }
  /** Owner → asking node: the answer to `id`; `found` as `AssetLookup` less the body (the payload). */
  | { k: "reply"; id: number; found: { kind: "asset"; mime: string } | { kind: "skipped"; reason: AssetSkipReason } | "not_in_session" | null };

export type BusAsk = Extract<BusHeader, { k: "asset" }>;
export type BusReply = Extract<BusHeader, { k: "reply" }>;

export type BusHandler = (header: BusHeader, payload: Buffer) => void;

const NEWLINE = 0x0a;
const nodeKey = (node: string) => `glimpse:node:${node}`;
const channel = (node: string) => `glimpse:bus:${node}`;
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
  private readonly asked = new Map<number, (answer: { header: BusReply; payload: Buffer } | null) => void>();
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
    await this.subscriber.subscribe(channel(this.nodeId));
    await this.beat();
    this.started = true;
    this.heartbeat = setInterval(() => void this.beat(), NODE_TTL_MS / 3);
    this.heartbeat.unref();
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

  /** Ask another node and wait for its reply (null after `timeoutMs`, or when it cannot be sent). */
  ask(node: string, question: Omit<BusAsk, "from" | "id">, timeoutMs: number): Promise<{ header: BusReply; payload: Buffer } | null> {
    const id = this.nextAsk++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(null), timeoutMs);
      const settle = (answer: { header: BusReply; payload: Buffer } | null) => {
        clearTimeout(timer);
        this.asked.delete(id);
        resolve(answer);
      };
      this.asked.set(id, settle);
      this.publish(node, { ...question, from: this.nodeId, id });
    });
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
    for (const handler of this.handlers) handler(header, payload);
  }
}
