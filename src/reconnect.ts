/**
 * Reconnect policy: capped exponential backoff with full jitter (Hocuspocus defaults: 1 s, ×2,
 * max 30 s). Pure: the caller passes the attempt number and a random source.
 */
export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0 = no jitter, 1 = full jitter (delay uniformly in [0, cap]). */
  jitter: number;
  /** Give up after this many attempts (Infinity = never). */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: 1_000,
  factor: 2,
  maxMs: 30_000,
  jitter: 0.5,
  maxAttempts: Infinity,
};

/** Delay before attempt number `attempt` (0-based), or null when the policy gives up. */
export function backoffDelay(attempt: number, random: () => number, policy: BackoffPolicy = DEFAULT_BACKOFF): number | null {
  if (attempt >= policy.maxAttempts) return null;
  const cap = Math.min(policy.maxMs, policy.initialMs * policy.factor ** attempt);
  const jitter = cap * policy.jitter * random();
  return Math.round(cap - jitter);
}
