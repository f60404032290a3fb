// Per-credential request rate limits: a token bucket per caller (a user or API key within its
// tenant, or an agent credential), refilled at `perSecond` up to `burst`. A caller over its limit
// gets 429 problem+json with Retry-After; nobody else is slowed. The buckets live in this process
// (an LRU of the most recent callers), so with N instances — or Workers isolates — a caller gets
// at most N times the limit: a guard against one runaway client, not a billing meter.
import type { MiddlewareHandler } from "hono";
import { LRUCache } from "lru-cache";
import type { BaseEnv } from "./env.ts";
import { problem } from "./problem.ts";

export interface RateLimit {
  /** Tokens added per second; 0 turns the limit off. */
  perSecond: number;
  /** Bucket size: how many requests may come at once after a quiet spell. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface RateLimiter {
  /** Takes one token for `key`; returns 0 when allowed, else the seconds until one is free. */
  take(key: string, nowMs: number): number;
}

export function createRateLimiter(limit: RateLimit, maxKeys = 100_000): RateLimiter {
  const buckets = new LRUCache<string, Bucket>({ max: maxKeys });
  return {
    take(key, nowMs) {
      const b = buckets.get(key) ?? { tokens: limit.burst, at: nowMs };
      b.tokens = Math.min(limit.burst, b.tokens + ((nowMs - b.at) / 1000) * limit.perSecond);
      b.at = nowMs;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / limit.perSecond));
    },
  };
}

/**
 * After authentication: limits the caller `keyOf` names (undefined: not limited here).
 * `onLimited` sees the tenant of each refused request (metrics).
 */
export function rateLimit<E extends BaseEnv>(
  limit: RateLimit,
  keyOf: (c: Parameters<MiddlewareHandler<E>>[0]) => { key: string; tenantId: string } | undefined,
  onLimited?: (tenantId: string) => void,
): MiddlewareHandler<E> {
  if (limit.perSecond <= 0) return (_c, next) => next();
  const limiter = createRateLimiter(limit);
  return async (c, next) => {
    const who = keyOf(c);
    if (!who) return next();
    const wait = limiter.take(who.key, c.get("now")().getTime());
    if (wait === 0) return next();
    onLimited?.(who.tenantId);
    return problem(c, 429, `Too many requests from this credential: at most ${limit.perSecond} per second (bursts of ${limit.burst}). Retry after ${wait} s.`, {
      headers: { "retry-after": String(wait) },
    });
  };
}
