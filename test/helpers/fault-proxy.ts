/**
 * A TCP proxy between the extension and the server that breaks the network on demand: reset every
 * connection, add latency, black-hole the traffic (nothing passes either way and nothing closes,
 * as when a route dies), or cut a connection in the middle of a frame the client is sending.
 */
import { connect, createServer, type Socket } from "node:net";

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: give this to the extension as its server. */
  url: string;
  /** Reset every open connection (a Wi-Fi switch, a NAT or proxy timeout). */
  drop(): void;
  /** Refuse new connections (reset at once) until called with false: the network is down. */
  refuse(on: boolean): void;
  /** Hold every chunk this long in each direction (order kept); 0 for none. */
  latency(ms: number): void;
  /** Pass nothing either way, and hold closes too, until `restore()`. */
  blackhole(): void;
  restore(): void;
  /** The next chunk a client sends of at least `minBytes` goes through half; then that connection is cut. Resolves once it was. */
  cutNextUpload(minBytes: number): Promise<void>;
  close(): Promise<void>;
}

type Item = { at: number; chunk: Buffer } | { at: number; end: true };

/** One direction of one connection: a queue that keeps order through latency and black holes. */
class Lane {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly to: Socket,
    private readonly faults: { latencyMs: number; holding: boolean },
  ) {}

  push(item: Item): void {
    this.queue.push(item);
    this.pump();
  }

  pump(): void {
    if (this.timer) return;
    while (this.queue.length > 0 && !this.faults.holding) {
      const head = this.queue[0]!;
      const wait = head.at + this.faults.latencyMs - Date.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, wait);
        return;
      }
      this.queue.shift();
      if ("end" in head) this.to.destroy();
      else if (!this.to.destroyed) this.to.write(head.chunk);
    }
  }
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  const faults = { latencyMs: 0, holding: false };
  let refusing = false;
  const pairs = new Set<{ client: Socket; upstream: Socket; lanes: Lane[] }>();
  let cut: { minBytes: number; done: () => void } | null = null;

  const server = createServer((client) => {
    if (refusing) return client.resetAndDestroy();
    const upstream = connect(Number(port), hostname);
    const up = new Lane(upstream, faults);
    const down = new Lane(client, faults);
    const pair = { client, upstream, lanes: [up, down] };
    pairs.add(pair);
    client.on("data", (chunk) => {
      if (cut && chunk.length >= cut.minBytes) {
        const { done } = cut;
        cut = null;
        upstream.write(chunk.subarray(0, chunk.length >> 1), () => upstream.destroy());
        client.resetAndDestroy();
        return done();
      }
      up.push({ at: Date.now(), chunk });
    });
    upstream.on("data", (chunk) => down.push({ at: Date.now(), chunk }));
    client.on("close", () => up.push({ at: Date.now(), end: true }));
    upstream.on("close", () => down.push({ at: Date.now(), end: true }));
    client.on("error", () => {});
    upstream.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (!address || typeof address === "string") throw new Error("no address");

  return {
    url: `http://127.0.0.1:${address.port}`,
    drop() {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    refuse(on) {
      refusing = on;
    },
    latency(ms) {
      faults.latencyMs = ms;
    },
    blackhole() {
      faults.holding = true;
    },
    restore() {
      faults.holding = false;
      for (const pair of pairs) {
        for (const lane of pair.lanes) lane.pump();
        if (pair.client.destroyed && pair.upstream.destroyed) pairs.delete(pair);
      }
    },
    cutNextUpload(minBytes) {
      return new Promise((done) => (cut = { minBytes, done }));
    },
    close() {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
