/**
 * One timer for all sockets: every second it closes sockets that did not say hello in time, and
 * every `pingMs` it pings the rest (each socket at its own phase, so pings are spread out).
 */
export interface Beating {
  helloBy: number;
  lastSeen: number;
  greeted(): boolean;
  expireHello(): void;
  ping(): void;
}

export class Heartbeat {
  private readonly entries = new Set<Beating & { nextPing: number }>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pingMs: number) {}

  add<T extends Beating>(entry: T): T {
    const withPing = Object.assign(entry, { nextPing: Date.now() + this.pingMs });
    this.entries.add(withPing);
    this.timer ??= setInterval(() => this.tick(), Math.min(1000, this.pingMs));
    this.timer.unref();
    return entry;
  }

  remove(entry: Beating): void {
    this.entries.delete(entry as Beating & { nextPing: number });
    if (this.entries.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.entries.clear();
  }

  private tick(): void {
    const now = Date.now();
    for (const entry of this.entries) {
      if (!entry.greeted()) {
        if (now >= entry.helloBy) entry.expireHello();
        continue;
      }
      if (now >= entry.nextPing) {
        entry.nextPing = now + this.pingMs;
        entry.ping();
      }
    }
  }
}
