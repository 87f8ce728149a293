/**
 * Brute-force limits (rate-limiter-flexible, in memory; its Redis store fits the scale-out design).
 * Only failures are counted, so a busy but honest agent is never slowed down; once a budget is
 * spent the caller is blocked for the block period and answered RATE_LIMITED.
 */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";

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

const limiter = (points: number, windowS: number) => new RateLimiterMemory({ points, duration: windowS, blockDuration: windowS });

/** Milliseconds until the caller may try again, or 0 when allowed. */
async function blockedFor(limiters: [RateLimiterMemory, string][]): Promise<number> {
  let wait = 0;
  for (const [l, key] of limiters) {
    const res = await l.get(key);
    if (res && res.consumedPoints > l.points) wait = Math.max(wait, res.msBeforeNext);
  }
  return wait;
}

async function penalise(limiters: [RateLimiterMemory, string][]): Promise<void> {
  for (const [l, key] of limiters) {
    await l.consume(key).catch((error) => {
      if (!(error instanceof RateLimiterRes)) throw error;
    });
  }
}

export class Limits {
  private readonly loginUser: RateLimiterMemory;
  private readonly loginIp: RateLimiterMemory;
  private readonly joinAgent: RateLimiterMemory;
  private readonly joinIp: RateLimiterMemory;
  private readonly joinKey: RateLimiterMemory;

  constructor(config: LimitsConfig = DEFAULT_LIMITS) {
    this.loginUser = limiter(config.loginFailuresPerUser, config.loginWindowS);
    this.loginIp = limiter(config.loginFailuresPerIp, config.loginWindowS);
    this.joinAgent = limiter(config.joinFailuresPerAgent, config.joinWindowS);
    this.joinIp = limiter(config.joinFailuresPerIp, config.joinWindowS);
    this.joinKey = limiter(config.joinFailuresPerKey, config.joinWindowS);
  }

  private login(ip: string, username: string): [RateLimiterMemory, string][] {
    return [
      [this.loginUser, `${ip}|${username.toLowerCase()}`],
      [this.loginIp, ip],
    ];
  }

  private join(agentId: number, ip: string, key: string): [RateLimiterMemory, string][] {
    return [
      [this.joinAgent, String(agentId)],
      [this.joinIp, ip],
      [this.joinKey, key],
    ];
  }

  loginBlockedFor = (ip: string, username: string) => blockedFor(this.login(ip, username));
  loginFailed = (ip: string, username: string) => penalise(this.login(ip, username));
  async loginSucceeded(ip: string, username: string): Promise<void> {
    await this.loginUser.delete(`${ip}|${username.toLowerCase()}`);
  }

  joinBlockedFor = (agentId: number, ip: string, key: string) => blockedFor(this.join(agentId, ip, key));
  joinFailed = (agentId: number, ip: string, key: string) => penalise(this.join(agentId, ip, key));
}

export function retryMessage(ms: number): string {
  return `Too many failed attempts. Try again in ${Math.ceil(ms / 1000)} s.`;
}
