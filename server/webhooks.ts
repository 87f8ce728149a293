/**
 * Webhooks: a group's CRM hears when a session starts and ends and when a visitor answers a share
 * request, so it can log the call. Each event is written to the store's outbox first (it survives
 * a restart; several nodes share it and a delivery is claimed by one), then POSTed as JSON signed
 * per the Standard Webhooks spec (`webhook-id`, `webhook-timestamp`, `webhook-signature`: HMAC-SHA256
 * with the group's `whsec_` secret), and retried with growing delays until a 2xx answer or
 * `maxAttempts`. Payloads carry metadata only: never page content.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import type { SessionLifecycle } from "./sessions";
import type { StoreApi, WebhookRow } from "./store";

export type WebhookEvent =
  | {
      type: "session.started";
      data: { sessionId: string; keyType: string; sessionKey: string; site: string; startedAt: number; visitorId: string | null; agent: string | null };
    }
  | {
      type: "session.ended";
      data: { sessionId: string; keyType: string; sessionKey: string; site: string; endedAt: number; reason: string; agents: string[] };
    }
  | { type: "request.answered"; data: { requestId: string; visitorId: string; agent: string; answer: "accepted" | "declined"; answeredAt: number } };

export interface WebhookOptions {
  /** The first retry waits this long; each next one four times longer (1 s, 4 s, 16 s, 64 s, 256 s by default). */
  retryBaseMs: number;
  maxAttempts: number;
  /** How often the outbox is looked at for due deliveries (a new event here is sent at once). */
  pollMs: number;
  /** An endpoint that has not answered by then counts as a failed attempt. */
  timeoutMs: number;
  now?: () => number;
}

/** A new signing secret, in the Standard Webhooks format (`whsec_` + base64 of 32 random bytes). */
export const newWebhookSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

/** When attempt `attempts` (1-based) failed: the next one, or null when there is none. */
export function retryAt(now: number, attempts: number, options: Pick<WebhookOptions, "retryBaseMs" | "maxAttempts">): number | null {
  return attempts >= options.maxAttempts ? null : now + options.retryBaseMs * 4 ** (attempts - 1);
}

export class Webhooks {
  private readonly now: () => number;
  private readonly timer: ReturnType<typeof setInterval>;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  /** Events being written to the outbox (awaited by `stop`). */
  private readonly writing = new Set<Promise<void>>();

  constructor(
    private readonly store: StoreApi,
    private readonly options: WebhookOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.kick(), options.pollMs);
    this.timer.unref();
  }

  /** Record `event` for the group's endpoint, if it has one, and send it. Never throws, never waits. */
  emit(groupId: string, event: WebhookEvent): void {
    const write = (async () => {
      if (!(await this.store.webhookOf(groupId))) return;
      const createdAt = this.now();
      const id = `msg_${randomUUID()}`;
      const body = JSON.stringify({ id, type: event.type, groupId, createdAt, data: event.data });
      await this.store.enqueueWebhook({ id, groupId, body, createdAt });
      this.kick();
    })()
      .catch((error: Error) => console.error(`glimpse: webhook ${event.type} not recorded`, error.message))
      .finally(() => this.writing.delete(write));
    this.writing.add(write);
  }

  /** Look for due deliveries now (one pass at a time; a kick during a pass runs another after it). */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliverDue()
      .catch((error: Error) => console.error("glimpse: webhook outbox unreadable", error.message))
      .finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all(this.writing);
    this.stopped = true;
    await this.running;
  }

  private async deliverDue(): Promise<void> {
    const due = await this.store.dueWebhooks(this.now(), 50);
    await Promise.all(due.map((row) => this.deliver(row)));
  }

  private async deliver(row: WebhookRow): Promise<void> {
    // Leased for longer than an attempt can take: a node that dies mid-attempt leaves it to the next.
    if (!(await this.store.claimWebhook(row.id, row.nextAt, this.now() + this.options.timeoutMs * 2))) return;
    const endpoint = await this.store.webhookOf(row.groupId);
    const attempts = row.attempts + 1;
    let error: string;
    if (!endpoint) {
      error = "the group has no webhook endpoint any more";
    } else {
      try {
        const sentAt = new Date(this.now());
        const response = await fetch(endpoint.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "Glimpse-Webhooks/1",
            "webhook-id": row.id,
            "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
            "webhook-signature": new Webhook(endpoint.secret).sign(row.id, sentAt, row.body),
          },
          body: row.body,
          redirect: "manual",
          signal: AbortSignal.timeout(this.options.timeoutMs),
        });
        await response.body?.cancel().catch(() => {});
        if (response.ok) return await this.store.webhookDelivered(row.id);
        error = `HTTP ${response.status}`;
      } catch (failure) {
        error = (failure as Error).name === "TimeoutError" ? `no answer within ${this.options.timeoutMs} ms` : ((failure as Error).cause as Error)?.message ?? (failure as Error).message;
      }
    }
    const next = endpoint ? retryAt(this.now(), attempts, this.options) : null;
    if (next === null) console.warn(`glimpse: webhook ${row.id} for group ${row.groupId} given up after ${attempts} attempt(s): ${error}`);
    await this.store.webhookFailed(row.id, attempts, next ?? this.now(), error, next === null);
  }
}

/** session.started and session.ended for every session that starts and ends on this node. */
export function sessionWebhooks(webhooks: Webhooks): SessionLifecycle {
  const about = (session: Parameters<SessionLifecycle["started"]>[0]) => ({ sessionId: String(session.auditId), keyType: session.keyType, sessionKey: session.key, site: session.site });
  return {
    started(session, startedAt) {
      const oneClick = session.keyType === "visitor";
      webhooks.emit(session.groupId, { type: "session.started", data: { ...about(session), startedAt, visitorId: oneClick ? session.key : null, agent: session.allowedAgent } });
    },
    ended(session, reason, endedAt) {
      webhooks.emit(session.groupId, { type: "session.ended", data: { ...about(session), endedAt, reason, agents: [...session.agentsSeen] } });
    },
  };
}
