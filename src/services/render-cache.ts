// The agents' poll renders its environment's objects and hashes them for the ETag: a few ms of
// CPU for every poll, 304 or not. The output is a function of the revision's document (revisions
// never change), of the open drafts (their shadow constraints, src/policies/shadow.ts) and of the
// clock only through exemption and draft expiry, so each process keeps it per environment until
// the revision or the set of drafts (ids and versions) moves on, or the next expiresAt of any
// of them passes. Only computed data is shared between requests, never pending I/O, so this is
// safe on Workers too.
import { LRUCache } from "lru-cache";
import { contentHash } from "../policies/hash.ts";
import { EnvironmentSettings, renderEnvironment } from "../policies/index.ts";
import { withShadows } from "../policies/shadow.ts";

export interface RenderedObjects {
  /** In apply order; shared between requests: never mutate. */
  objects: readonly Record<string, unknown>[];
  /** contentHash of the objects. */
  hash: string;
}

/** An open draft as the desired state needs it. */
export interface OpenDraft {
  id: string;
  document: unknown;
  /** + 1 on every update of the draft. */
  version: number;
  expiresAt: Date;
}

interface Entry extends RenderedObjects {
  /** The revision and the drafts' ids and versions the entry was rendered from. */
  version: string;
  /** Valid for clock readings in [from, until). */
  from: number;
  until: number;
}

// One entry per environment polled, least recently polled out first: a fleet of 10,000 agents
// must not clear it as a whole (a re-render each, a few ms) every time one more appears.
const entries = new LRUCache<string, Entry>({ max: 100_000 });

// Environments with the same document and no drafts (a preset or a platform team's standard, on
// many clusters) share one rendering: its objects, hash and window are a function of the document
// alone. Keyed by the document's content hash, so 10,000 such environments hold one rendering
// instead of 10,000 (~16 KB of heap each, which the server's major GCs then walk) and a new one
// costs a hash of its document instead of a render and a hash of ~150 KB of objects.
const shared = new LRUCache<string, Omit<Entry, "version">>({ max: 10_000 });

/** The earliest expiresAt anywhere in the document that is later than `t` (Infinity if none). */
export function nextExpiry(document: unknown, t: number): number {
  let next = Infinity;
  // Iterative: the document came from a request body; no walk over one depends on the stack.
  const stack: unknown[] = [document];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) for (const x of v) stack.push(x);
    else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "expiresAt" && typeof x === "string") {
          const at = Date.parse(x);
          // The renderer keeps an exemption while expiresAt > now: its output changes at `at`.
          if (at > t && at < next) next = at;
        } else stack.push(x);
      }
    }
  }
  return next;
}

/**
 * The objects of `revision` (none for 0 or a null document) plus the drafts' shadows, rendered at
 * `now`, and their hash: rendered at most once per validity window.
 */
export function renderedObjects(
  tenantId: string,
  environmentId: string,
  revision: number,
  document: unknown,
  now: Date,
  drafts: readonly OpenDraft[] = [],
): RenderedObjects {
  const key = `${tenantId}/${environmentId}`;
  const t = now.getTime();
  const version = [revision, ...drafts.map((d) => `${d.id}@${d.version}`)].join("|");
  const hit = entries.get(key);
  // A clock set back (t < from) renders again rather than trust a window it has not seen.
  if (hit && hit.version === version && t >= hit.from && t < hit.until) return hit;
  const contentKey = drafts.length === 0 ? (revision > 0 && document !== null ? contentHash(document) : "none") : undefined;
  const same = contentKey === undefined ? undefined : shared.get(contentKey);
  if (same && t >= same.from && t < same.until) {
    const entry: Entry = { ...same, version };
    entries.set(key, entry);
    return entry;
  }
  const current = revision > 0 && document !== null ? renderEnvironment(EnvironmentSettings.parse(document), now).objects : [];
  const open = drafts.filter((d) => d.expiresAt.getTime() > t);
  const objects = withShadows(
    current,
    open.map((d) => ({ id: d.id, version: d.version, document: EnvironmentSettings.parse(d.document) })),
    now,
  );
  let until = revision > 0 ? nextExpiry(document, t) : Infinity;
  for (const d of open) until = Math.min(until, nextExpiry(d.document, t), d.expiresAt.getTime());
  const entry: Entry = { objects, hash: contentHash(objects), version, from: t, until };
  entries.set(key, entry);
  if (contentKey !== undefined) shared.set(contentKey, { objects, hash: entry.hash, from: t, until });
  return entry;
}
