/**
 * Prometheus metrics (prom-client), one registry per server instance. Gauges are read from the
 * registries when scraped, so the relay path pays two counter increments per message and nothing
 * else. Served at /metrics only when GLIMPSE_METRICS_TOKEN is set, to a scraper that sends it.
 * Counts only: no key, visitor ID, URL or page content is ever a label.
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { ErrorCode } from "../src/errors";

export interface MetricSources {
  /** Live sessions by key type ("random": manual, "visitor": one-click). */
  sessions(): Record<"random" | "visitor", number>;
  /** Agents connected to a session. */
  viewers(): number;
  /** Visitors online (one per visitor ID, however many browsers) for one-click. */
  presence(): number;
  /** Open WebSockets per endpoint. */
  connections(): Record<"visitor" | "agent", number>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly relayedMessages: Counter;
  private readonly relayedBytes: Counter;
  private readonly deliveredMessages: Counter;
  private readonly errors: Counter<"code">;

  constructor(sources: MetricSources, options: { processMetrics: boolean }) {
    const registers = [this.registry];
    new Gauge({
      name: "glimpse_sessions",
      help: "Live sessions on this node, by key type (random: manual, visitor: one-click).",
      labelNames: ["key_type"],
      registers,
      collect() {
        for (const [keyType, count] of Object.entries(sources.sessions())) this.set({ key_type: keyType }, count);
      },
    });
    new Gauge({
      name: "glimpse_session_agents",
      help: "Agents viewing a session on this node.",
      registers,
      collect() {
        this.set(sources.viewers());
      },
    });
    new Gauge({
      name: "glimpse_presence_visitors",
      help: "Visitors online for one-click on this node (one per visitor ID).",
      registers,
      collect() {
        this.set(sources.presence());
      },
    });
    new Gauge({
      name: "glimpse_connections",
      help: "Open WebSockets on this node, by endpoint.",
      labelNames: ["endpoint"],
      registers,
      collect() {
        for (const [endpoint, count] of Object.entries(sources.connections())) this.set({ endpoint }, count);
      },
    });
    this.relayedMessages = new Counter({ name: "glimpse_relayed_messages_total", help: "Recording messages received from visitors and relayed.", registers });
    this.relayedBytes = new Counter({ name: "glimpse_relayed_bytes_total", help: "Bytes of the recording messages relayed, as received (before fan-out).", registers });
    this.deliveredMessages = new Counter({ name: "glimpse_delivered_messages_total", help: "Messages sent to agents' sockets (one relayed message to three agents counts three).", registers });
    this.errors = new Counter({ name: "glimpse_errors_total", help: "Errors sent to clients (WebSocket and HTTP), by code (README, Error codes).", labelNames: ["code"], registers });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: "glimpse_" });
  }

  relayed(bytes: number, agents: number): void {
    this.relayedMessages.inc();
    this.relayedBytes.inc(bytes);
    if (agents > 0) this.deliveredMessages.inc(agents);
  }

  error(code: ErrorCode): void {
    this.errors.inc({ code });
  }

  /** An error message on its way to a client, as text: counted by its code. */
  errorText(text: string): void {
    const code = /"code":"([A-Z_]+)"/.exec(text)?.[1];
    if (code) this.error(code as ErrorCode);
  }
}
