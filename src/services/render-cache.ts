// The agents' poll renders its environment's objects and hashes them for the ETag: a few ms of
// CPU for every poll, 304 or not. The output is a function of the revision's document (revisions
// never change) and of the clock only through exemption expiry, so each process keeps it per
// environment until the revision moves on or the document's next expiresAt passes. Only computed
// data is shared between requests, never pending I/O, so this is safe on Workers too.
import { contentHash } from "../policies/hash.ts";
import { EnvironmentSettings, renderEnvironment } from "../policies/index.ts";

export interface RenderedObjects {
  /** In apply order; shared between requests: never mutate. */
  objects: readonly Record<string, unknown>[];
  /** contentHash of the objects. */
  hash: string;
}

interface Entry extends RenderedObjects {
  revision: number;
  /** Valid for clock readings in [from, until). */
  from: number;
  until: number;
}

const entries = new Map<string, Entry>();
const LIMIT = 10_000;

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

/** renderEnvironment(document, now).objects and their hash, rendered at most once per validity window. */
export function renderedObjects(tenantId: string, environmentId: string, revision: number, document: unknown, now: Date): RenderedObjects {
  const key = `${tenantId}/${environmentId}`;
  const t = now.getTime();
  const hit = entries.get(key);
  // A clock set back (t < from) renders again rather than trust a window it has not seen.
  if (hit && hit.revision === revision && t >= hit.from && t < hit.until) return hit;
  const { objects } = renderEnvironment(EnvironmentSettings.parse(document), now);
  const entry: Entry = { objects, hash: contentHash(objects), revision, from: t, until: nextExpiry(document, t) };
  if (entries.size >= LIMIT) entries.clear();
  entries.set(key, entry);
  return entry;
}
