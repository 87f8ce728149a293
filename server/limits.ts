/**
 * Brute-force limits (rate-limiter-flexible: in memory; with several nodes in Redis, so that an
 * attacker spreading guesses over the nodes gets no more than from one, and in memory again while
 * Redis is unreachable).
 * Once a budget is spent the caller is blocked for the block period and answered RATE_LIMITED.
 *
 * Sign-in attempts are counted *before* the slow password check and refunded on success, so a
 * burst sent at once cannot all be checked before the first failure is recorded; at most
 * `MAX_CONCURRENT_CHECKS` checks run at a time per address and per username. Joins count failures
 * only (a busy honest agent is never slowed), and an address's block stops only the agents who
 * failed from it: an honest agent behind the same address as an attacker still joins with the right key.
 */
import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";

export interface LimitsConfig {
  /** Failed sign-ins per (IP, username) and per IP, within `loginWindowS`. */
  loginFailuresPerUser: number;
  loginFailuresPerIp: number;
  loginWindowS: number;
  /** Failed joins (wrong or expired key) per agent, per IP and per key, within `joinWindowS`. */
  joinFailuresPerAgent: number;
  joinFailuresPerIp: number;
  joinFailuresPerKey: number;
  joinWindowS: number;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  loginFailuresPerUser: 5,
  loginFailuresPerIp: 50,
  loginWindowS: 15 * 60,
  joinFailuresPerAgent: 10,
  joinFailuresPerIp: 100,
  joinFailuresPerKey: 20,
  joinWindowS: 60,
};

function limiter(name: string, points: number, windowS: number, redis: Redis | undefined): RateLimiterAbstract {
  const options = { points, duration: windowS, blockDuration: windowS };
  if (!redis) return new RateLimiterMemory(options);
  // Redis unreachable: this node counts on its own until it is back.
  return new RateLimiterRedis({ ...options, storeClient: redis, keyPrefix: `glimpse:limit:${name}`, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(options) });
}

/** Milliseconds until the caller may try again, or 0 when allowed. */
async function blockedFor(limiters: [RateLimiterAbstract, string][]): Promise<number> {
  let wait = 0;
  for (const [l, key] of limiters) {
    const res = await l.get(key);
    if (res && res.consumedPoints > l.points) wait = Math.max(wait, res.msBeforeNext);
  }
  return wait;
}

async function penalise(limiters: [RateLimiterAbstract, string][]): Promise<void> {
  for (const [l, key] of limiters) {
    await l.consume(key).catch((error) => {
      if (!(error instanceof RateLimiterRes)) throw error;
    });
  }
}

/** Password checks (~0.1–0.5 s of CPU each) running at once per address and per username. */
export const MAX_CONCURRENT_CHECKS = 2;

export class Limits {
  private readonly checking = new Map<string, number>();
  private readonly loginUser: RateLimiterAbstract;
  private readonly loginIp: RateLimiterAbstract;
  private readonly joinAgent: RateLimiterAbstract;
  private readonly joinIp: RateLimiterAbstract;
  private readonly joinKey: RateLimiterAbstract;

  /** `redis`: several nodes count together there. */
  constructor(config: LimitsConfig = DEFAULT_LIMITS, redis?: Redis) {
    this.loginUser = limiter("login-user", config.loginFailuresPerUser, config.loginWindowS, redis);
    this.loginIp = limiter("login-ip", config.loginFailuresPerIp, config.loginWindowS, redis);
    this.joinAgent = limiter("join-agent", config.joinFailuresPerAgent, config.joinWindowS, redis);
    this.joinIp = limiter("join-ip", config.joinFailuresPerIp, config.joinWindowS, redis);
    this.joinKey = limiter("join-key", config.joinFailuresPerKey, config.joinWindowS, redis);
  }

  private login(ip: string, username: string): [RateLimiterAbstract, string][] {
    return [
      [this.loginUser, `${ip}|${username.toLowerCase()}`],
      [this.loginIp, ip],
    ];
  }

  private join(agentId: number, ip: string, key: string): [RateLimiterAbstract, string][] {
    return [
      [this.joinAgent, String(agentId)],
      [this.joinIp, ip],
      [this.joinKey, key],
    ];
  }

  /**
   * A sign-in attempt, counted before its password is checked: the milliseconds to wait (0 = go
   * ahead). Call `loginFinished` when the check is over, and `loginSucceeded` on success.
   */
  async loginAttempt(ip: string, username: string): Promise<number> {
    let wait = 0;
    for (const [l, key] of this.login(ip, username)) {
      await l.consume(key).catch((error) => {
        if (!(error instanceof RateLimiterRes)) throw error;
        wait = Math.max(wait, error.msBeforeNext);
      });
    }
    if (wait > 0) return wait;
    // Counted either way: an attempt refused for concurrency is still an attempt.
    const slots = [`ip:${ip}`, `user:${username.toLowerCase()}`];
    if (slots.some((slot) => (this.checking.get(slot) ?? 0) >= MAX_CONCURRENT_CHECKS)) return 1_000;
    for (const slot of slots) this.checking.set(slot, (this.checking.get(slot) ?? 0) + 1);
    return 0;
  }

  loginFinished(ip: string, username: string): void {
    for (const slot of [`ip:${ip}`, `user:${username.toLowerCase()}`]) {
      const left = (this.checking.get(slot) ?? 1) - 1;
      if (left <= 0) this.checking.delete(slot);
      else this.checking.set(slot, left);
    }
  }

  /** The right password: this attempt is refunded, and the username's count starts over. */
  async loginSucceeded(ip: string, username: string): Promise<void> {
    await this.loginUser.delete(`${ip}|${username.toLowerCase()}`);
    await this.loginIp.reward(ip, 1);
  }

  /**
   * The agent's own failures and the key's block always count; the address's block only for an
   * agent who has failed too, so an attacker sharing an address cannot lock an honest agent out.
   */
  async joinBlockedFor(agentId: number, ip: string, key: string): Promise<number> {
    const own = await this.joinAgent.get(String(agentId));
    const limiters = this.join(agentId, ip, key).filter(([l]) => l !== this.joinIp || (own?.consumedPoints ?? 0) > 0);
    return blockedFor(limiters);
  }
  joinFailed = (agentId: number, ip: string, key: string) => penalise(this.join(agentId, ip, key));
}

export function retryMessage(ms: number): string {
  return `Too many failed attempts. Try again in ${Math.ceil(ms / 1000)} s.`;
}
