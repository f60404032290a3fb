// The agents' poll (GET settings with If-None-Match) is by far the most frequent request. Its
// answer depends on one number, the environment's current revision, so each process keeps it for
// a moment: within REVISION_CACHE_MS (default 1 s) a poll is answered 304 without a database round
// trip. Writes in this process forget the entry at once; another instance's write is seen within
// the TTL, which an agent polling every few seconds cannot tell apart from polling a moment later.
// Keys carry the tenant: an entry is only ever filled from a tenant-scoped query.
const entries = new Map<string, { revision: number; until: number }>();
const LIMIT = 50_000;

let ttlMs = Number(globalThis.process?.env?.REVISION_CACHE_MS ?? 1000);
if (!Number.isFinite(ttlMs) || ttlMs < 0) ttlMs = 1000;

const key = (tenantId: string, environmentId: string) => `${tenantId}/${environmentId}`;

export function cachedRevision(tenantId: string, environmentId: string, now = Date.now()): number | undefined {
  const e = entries.get(key(tenantId, environmentId));
  if (!e) return undefined;
  if (e.until <= now) {
    entries.delete(key(tenantId, environmentId));
    return undefined;
  }
  return e.revision;
}

export function rememberRevision(tenantId: string, environmentId: string, revision: number, now = Date.now()): void {
  if (ttlMs === 0) return;
  if (entries.size >= LIMIT) entries.clear();
  entries.set(key(tenantId, environmentId), { revision, until: now + ttlMs });
}

export function forgetRevision(tenantId: string, environmentId: string): void {
  entries.delete(key(tenantId, environmentId));
}

const loading = new Map<string, Promise<number | null>>();

/**
 * The cached revision, or `load()` it — once: concurrent misses for the same environment share one
 * query, so a busy environment costs one round trip per TTL, not one per waiting poll.
 */
export function revisionOrLoad(tenantId: string, environmentId: string, load: () => Promise<number | null>): Promise<number | null> {
  if (ttlMs === 0) return load(); // disabled: nothing shared between requests
  const hit = cachedRevision(tenantId, environmentId);
  if (hit !== undefined) return Promise.resolve(hit);
  const k = key(tenantId, environmentId);
  let pending = loading.get(k);
  if (!pending) {
    pending = load().then(
      (revision) => {
        if (revision !== null) rememberRevision(tenantId, environmentId, revision);
        return revision;
      },
    ).finally(() => loading.delete(k));
    loading.set(k, pending);
  }
  return pending;
}

/** Tests and benchmarks: change the TTL (0 disables the cache). */
export function setRevisionCacheTtl(ms: number): void {
  ttlMs = ms;
  entries.clear();
}
