/**
 * Share requests (one-click flow): one agent's "Start screen share" for one visitor, as one
 * object with a life of its own — pending → displayed → accepted → started, or declined,
 * cancelled, expired, failed. One open request per visitor; the session an accept starts is bound
 * to it (only its agent joins, only the browser holding its ticket starts it).
 *
 * Pure apart from the clock and timers, which are injected: test/unit/requests.test.ts runs the
 * interleavings (cancel vs accept, expiry vs accept, two agents, a console reloading) as tables.
 */
import { randomBytes } from "node:crypto";

export type RequestState = "pending" | "displayed" | "accepted" | "started" | "declined" | "cancelled" | "expired" | "failed";
export type Answer = "displayed" | "accepted" | "declined";

export interface ShareRequest {
  id: string;
  groupId: string;
  visitorId: string;
  /** The requesting agent's username: their console (this connection or the next, after a reload) joins. */
  agent: string;
  /** The requesting console's connection; null while it reconnects. */
  agentPeer: object | null;
  /** The visitor's presence was verified when asked: the answer must come from a verified browser. */
  verified: boolean;
  state: RequestState;
  /** When a pending or displayed request expires, or an accepted one fails to start. */
  expiresAt: number;
  /** One-time proof, handed to the visitor's browser on accept, that starts the bound session. */
  ticket: string | null;
}

export const OPEN_STATES: ReadonlySet<RequestState> = new Set(["pending", "displayed", "accepted"]);

export interface RequestOptions {
  /** An unanswered request expires after this long; an accepted one fails if its session has not started by then. */
  ttlMs: number;
  /** A requesting console that disconnects has this long to come back before its request is cancelled. */
  agentGraceMs: number;
  now?: () => number;
  /** Timers, injectable for tests; returns a cancel function. */
  schedule?: (ms: number, run: () => void) => () => void;
  /** Every state change, for telling the agents watching and the visitor. */
  onChange: (request: ShareRequest, previous: RequestState) => void;
  randomId?: () => string;
}

export type CreateResult = { request: ShareRequest; created: boolean } | { code: "REQUEST_PENDING"; by: string };
export type AnswerResult = { request: ShareRequest } | { code: "REQUEST_NOT_FOUND" | "INVALID_STATE" | "NOT_AUTHORIZED" };

const defaultSchedule = (ms: number, run: () => void) => {
  const timer = setTimeout(run, ms);
  timer.unref?.();
  return () => clearTimeout(timer);
};

export class ShareRequests {
  private readonly open = new Map<string, ShareRequest>();
  private readonly timers = new Map<ShareRequest, () => void>();
  private readonly graces = new Map<ShareRequest, () => void>();
  private readonly now: () => number;
  private readonly schedule: NonNullable<RequestOptions["schedule"]>;
  private readonly randomId: () => string;

  constructor(private readonly options: RequestOptions) {
    this.now = options.now ?? Date.now;
    this.schedule = options.schedule ?? defaultSchedule;
    this.randomId = options.randomId ?? (() => randomBytes(12).toString("base64url"));
  }

  /** The visitor's open request, if any. */
  current(groupId: string, visitorId: string): ShareRequest | null {
    return this.open.get(key(groupId, visitorId)) ?? null;
  }

  /**
   * An agent asks the visitor. The same agent asking again gets its open request back (a double
   * click, a reloaded console); another agent is told who asked first.
   */
  create(groupId: string, visitorId: string, agent: string, agentPeer: object, verified: boolean): CreateResult {
    const existing = this.current(groupId, visitorId);
    if (existing) {
      if (existing.agent !== agent) return { code: "REQUEST_PENDING", by: existing.agent };
      this.attach(existing, agentPeer);
      return { request: existing, created: false };
    }
    const request: ShareRequest = {
      id: this.randomId(),
      groupId,
      visitorId,
      agent,
      agentPeer,
      verified,
      state: "pending",
      expiresAt: this.now() + this.options.ttlMs,
      ticket: null,
    };
    this.open.set(key(groupId, visitorId), request);
    this.arm(request, "expired");
    this.options.onChange(request, "pending");
    return { request, created: true };
  }

  /** The visitor's browser answers. `verified`: whether the answering connection proved the visitor's identity. */
  answer(groupId: string, visitorId: string, id: string, answer: Answer, verified: boolean): AnswerResult {
    const request = this.current(groupId, visitorId);
    if (!request || request.id !== id) return { code: "REQUEST_NOT_FOUND" };
    if (request.verified && !verified) return { code: "NOT_AUTHORIZED" };
    if (answer === "displayed") {
      if (request.state !== "pending") return request.state === "displayed" ? { request } : { code: "INVALID_STATE" };
      this.move(request, "displayed");
      return { request };
    }
    if (request.state !== "pending" && request.state !== "displayed") return { code: "INVALID_STATE" };
    if (answer === "declined") {
      this.finish(request, "declined");
      return { request };
    }
    request.ticket = randomBytes(32).toString("base64url");
    request.expiresAt = this.now() + this.options.ttlMs;
    this.arm(request, "failed");
    this.move(request, "accepted");
    return { request };
  }

  /** The requesting agent withdraws (pending or displayed only: once accepted, the session is starting). */
  cancel(groupId: string, visitorId: string, agent: string): ShareRequest | null {
    const request = this.current(groupId, visitorId);
    if (!request || request.agent !== agent || (request.state !== "pending" && request.state !== "displayed")) return null;
    this.finish(request, "cancelled");
    return request;
  }

  /** The visitor's session connection presents its ticket: the accepted request, once. */
  redeem(groupId: string, ticket: string): ShareRequest | null {
    for (const request of this.open.values()) {
      if (request.groupId === groupId && request.state === "accepted" && request.ticket !== null && request.ticket === ticket) {
        request.ticket = null;
        return request;
      }
    }
    return null;
  }

  /** The bound session started: the request is done. */
  started(request: ShareRequest): void {
    if (this.open.get(key(request.groupId, request.visitorId)) === request) this.finish(request, "started");
  }

  /** The start failed (the browser could not open its session): the agent can ask again. */
  failed(request: ShareRequest): void {
    if (this.open.get(key(request.groupId, request.visitorId)) === request) this.finish(request, "failed");
  }

  /** A console closed: its open requests wait `agentGraceMs` for the same agent's console to come back. */
  agentGone(agentPeer: object): void {
    for (const request of this.open.values()) {
      if (request.agentPeer !== agentPeer) continue;
      request.agentPeer = null;
      if (request.state === "accepted") continue; // the session starts anyway; the agent rejoins it
      this.awaitAgent(request);
    }
  }

  /**
   * Several nodes: the visitor's browser now answers on another node, which takes the request
   * over (`adopt`). It leaves this node without a change of state: nobody is told here.
   */
  detach(request: ShareRequest): void {
    if (this.open.get(key(request.groupId, request.visitorId)) !== request) return;
    this.open.delete(key(request.groupId, request.visitorId));
    this.timers.get(request)?.();
    this.timers.delete(request);
    this.graces.get(request)?.();
    this.graces.delete(request);
  }

  /** Several nodes: a pending or displayed request handed over from another node, open here as it was. */
  adopt(fields: Pick<ShareRequest, "id" | "groupId" | "visitorId" | "agent" | "verified" | "state" | "expiresAt">, agentPeer: object | null): ShareRequest {
    const request: ShareRequest = { ...fields, agentPeer, ticket: null };
    const existing = this.current(fields.groupId, fields.visitorId);
    if (existing) this.detach(existing);
    this.open.set(key(request.groupId, request.visitorId), request);
    this.arm(request, "expired");
    if (!agentPeer) this.awaitAgent(request);
    return request;
  }

  private awaitAgent(request: ShareRequest): void {
    this.graces.get(request)?.();
    this.graces.set(
      request,
      this.schedule(this.options.agentGraceMs, () => {
        this.graces.delete(request);
        if (request.agentPeer === null && (request.state === "pending" || request.state === "displayed")) this.finish(request, "cancelled");
      }),
    );
  }

  /** The same agent's console (reloaded, reconnected) looks at the visitor again: the request is theirs again. */
  reattach(groupId: string, visitorId: string, agent: string, agentPeer: object): ShareRequest | null {
    const request = this.current(groupId, visitorId);
    if (!request || request.agent !== agent) return null;
    this.attach(request, agentPeer);
    return request;
  }

  private attach(request: ShareRequest, agentPeer: object): void {
    request.agentPeer = agentPeer;
    this.graces.get(request)?.();
    this.graces.delete(request);
  }

  private arm(request: ShareRequest, onTimeout: "expired" | "failed"): void {
    this.timers.get(request)?.();
    this.timers.set(
      request,
      this.schedule(Math.max(0, request.expiresAt - this.now()), () => {
        if (this.open.get(key(request.groupId, request.visitorId)) === request) this.finish(request, onTimeout);
      }),
    );
  }

  private move(request: ShareRequest, state: RequestState): void {
    const previous = request.state;
    request.state = state;
    this.options.onChange(request, previous);
  }

  private finish(request: ShareRequest, state: RequestState): void {
    this.open.delete(key(request.groupId, request.visitorId));
    this.timers.get(request)?.();
    this.timers.delete(request);
    this.graces.get(request)?.();
    this.graces.delete(request);
    request.ticket = null;
    this.move(request, state);
  }
}

const key = (groupId: string, visitorId: string) => `${groupId}:${visitorId}`;
