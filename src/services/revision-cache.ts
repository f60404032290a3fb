// The agents' poll (GET settings with If-None-Match) is by far the most frequent request. Its
// answer depends on one number, the environment's current revision, so each process keeps it for
// a moment: within REVISION_CACHE_MS (default 1 s) a poll is answered 304 without a database round
// trip. Writes in this process forget the entry at once; another instance's write is seen within
// the TTL, which an agent polling every few seconds cannot tell apart from polling a moment later.
// Keys carry the tenant: an entry is only ever filled from a tenant-scoped query.
import { LRUCache } from "lru-cache";

// Bounded by count, least recently polled out first (so a flood of one-off environments cannot
// push out the busy ones). The TTL is kept in the entry, not as lru-cache's ttl, because callers
// and tests pass the clock reading (`now`) in.
export const REVISION_CACHE_LIMIT = 50_000;
const entries = new LRUCache<string, { revision: number; until: number }>({ max: REVISION_CACHE_LIMIT });

// In-flight loads. A write in this process marks its environment's load stale, so a query that
// may have read the old revision does not put it back after forgetRevision() removed it.
const loading = new Map<string, { promise: Promise<number | null>; stale: boolean }>();

// REVISION_CACHE_MS is validated by src/app/config.ts; `npm start` sets it with setRevisionCacheTtl.
let ttlMs = 1000;

const key = (tenantId: string, environmentId: string) => `${tenantId}/${environmentId}`;

/** The entry for key `k` while it is within its TTL; an expired one is dropped. */
function live(k: string, now: number) {
  const e = entries.get(k);
  if (!e || e.until > now) return e;
  entries.delete(k);
  return undefined;
}

export function cachedRevision(tenantId: string, environmentId: string, now = Date.now()): number | undefined {
  return live(key(tenantId, environmentId), now)?.revision;
}

export function rememberRevision(tenantId: string, environmentId: string, revision: number, now = Date.now()): void {
  if (ttlMs === 0) return;
  entries.set(key(tenantId, environmentId), { revision, until: now + ttlMs });
}

export function forgetRevision(tenantId: string, environmentId: string): void {
  const k = key(tenantId, environmentId);
  entries.delete(k);
  const flight = loading.get(k);
  if (flight) {
    flight.stale = true;
    loading.delete(k); // the next poll starts a fresh read instead of joining this one
  }
}

function startLoad(tenantId: string, environmentId: string, load: () => Promise<number | null>): Promise<number | null> {
  const k = key(tenantId, environmentId);
  const started = Date.now(); // the TTL runs from before the read: the value is at least that fresh
  const flight = { promise: undefined as unknown as Promise<number | null>, stale: false };
  flight.promise = load()
    .then((revision) => {
      if (revision !== null && !flight.stale) rememberRevision(tenantId, environmentId, revision, started);
      return revision;
    })
    .finally(() => {
      if (loading.get(k) === flight) loading.delete(k);
    });
  loading.set(k, flight);
  return flight.promise;
}

/**
 * The cached revision, or `load()` it — once: concurrent misses for the same environment share one
 * query, so a busy environment costs one round trip per TTL, not one per waiting poll.
 *
 * Refresh-ahead: a hit in the last quarter of its TTL is answered from the cache at once and
 * starts that one query in the background, so while an environment is polled steadily no poll
 * waits on the database (that wait was the whole p99 of a paced poll). Nothing is served older
 * than the TTL: the refreshed entry's TTL counts from before its query.
 */
export function revisionOrLoad(tenantId: string, environmentId: string, load: () => Promise<number | null>): Promise<number | null> {
  if (ttlMs === 0) return load(); // disabled: nothing shared between requests
  const now = Date.now();
  const k = key(tenantId, environmentId);
  const hit = live(k, now);
  if (hit) {
    if (hit.until - now < ttlMs / 4 && !loading.has(k)) {
      // A failed refresh is not this poll's problem: the entry expires and the next miss loads
      // (and reports the failure) in the foreground.
      startLoad(tenantId, environmentId, load).catch(() => {});
    }
    return Promise.resolve(hit.revision);
  }
  return loading.get(k)?.promise ?? startLoad(tenantId, environmentId, load);
}

/** Tests and benchmarks: change the TTL (0 disables the cache). */
export function setRevisionCacheTtl(ms: number): void {
  ttlMs = ms;
  entries.clear();
  loading.clear();
}
