// An informer: one LIST, then a WATCH from its resourceVersion that keeps a local copy of the
// objects current, so a reconcile pass reads memory instead of the API server — reads are
// proportional to change, not to the number of passes. Like client-go's reflector:
//   - the watch is re-opened from the last resourceVersion when the server ends it (its
//     timeoutSeconds, 10–20 min here) — one request;
//   - a 410 Gone (the resourceVersion is too old) or a failed watch is answered with a fresh LIST;
//   - every resync period (default 30 min) the copy is rebuilt from a LIST anyway, so a missed
//     event cannot hide drift for longer than that;
//   - the agent's own writes go into the copy at once (upsert/remove), so the next pass does
//     not see its pre-write state and write again. An event older than what the copy holds
//     (a smaller resourceVersion) is ignored.
import type { KubeClient } from "./kube-client.ts";
import type { LiveObject } from "./kube.ts";

export interface InformerOptions {
  /** The collection's REST path (resourcePath). */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Set on every object (a LIST's items carry neither). */
  apiVersion: string;
  kind: string;
  resyncMs: number;
  /** Called when the watch fails and is restarted (for logs); the informer recovers by itself. */
  onError?: (e: unknown) => void;
  /**
   * What of each object to keep (like client-go's SetTransform): the copy lives as long as the
   * process, so a kind the agent only asks one question of keeps only the answer's fields. It must
   * keep metadata.name, namespace and resourceVersion.
   */
  transform?: (o: LiveObject) => LiveObject;
}

export interface Informer {
  /** The current objects. The first call waits for the initial LIST and throws its error. */
  list(): Promise<LiveObject[]>;
  upsert(o: LiveObject): void;
  remove(o: LiveObject): void;
  stop(): void;
}

const keyOf = (o: LiveObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

/** Is resourceVersion a at least as new as b? Opaque by contract; etcd's revisions compare as integers. */
function notOlder(a: string | undefined, b: string | undefined): boolean {
  if (!a || !b || !/^\d+$/.test(a) || !/^\d+$/.test(b)) return true;
  return BigInt(a) >= BigInt(b);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

export function createInformer(client: KubeClient, opts: InformerOptions): Informer {
  let items = new Map<string, LiveObject>();
  let resourceVersion = "";
  let listedAt = 0;
  let started: Promise<void> | null = null;
  const abort = new AbortController();
  const selectors = { labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector };
  const keep = opts.transform ?? ((o: LiveObject) => o);
  const stamp = (o: LiveObject): LiveObject => ({ ...keep(o), apiVersion: opts.apiVersion, kind: opts.kind });

  async function relist(): Promise<void> {
    const next = new Map<string, LiveObject>();
    let cont: string | undefined;
    let rv = "";
    do {
      const page = await client.request<{ items: LiveObject[]; metadata: { resourceVersion?: string; continue?: string } }>("GET", opts.path, {
        query: { ...selectors, limit: 500, continue: cont },
      });
      for (const o of page.items) next.set(keyOf(o), stamp(o));
      rv = page.metadata.resourceVersion ?? rv;
      cont = page.metadata.continue || undefined;
    } while (cont);
    items = next;
    resourceVersion = rv;
    listedAt = Date.now();
  }

  function apply(type: string, object: Record<string, unknown>): "relist" | undefined {
    const o = object as LiveObject;
    const rv = o.metadata?.resourceVersion;
    if (type === "BOOKMARK") {
      if (rv) resourceVersion = rv;
      return;
    }
    if (type === "ERROR") {
      // A Status: 410 Gone means our resourceVersion is compacted away.
      if ((object as { code?: number }).code === 410) return "relist";
      throw new Error(`watch ${opts.path}: ${(object as { message?: string }).message ?? "error event"}`);
    }
    const key = keyOf(o);
    const held = items.get(key);
    if (held && !notOlder(rv, held.metadata?.resourceVersion)) return; // our own write is newer
    if (type === "DELETED") items.delete(key);
    else if (type === "ADDED" || type === "MODIFIED") items.set(key, stamp(o));
    if (rv) resourceVersion = rv;
  }

  async function run(): Promise<void> {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        if (Date.now() - listedAt >= opts.resyncMs) await relist();
        let gone = false;
        const timeoutSeconds = 600 + Math.floor(Math.random() * 600);
        await client.watch(
          opts.path,
          { ...selectors, resourceVersion, allowWatchBookmarks: true, timeoutSeconds },
          (e) => {
            if (!gone && apply(e.type, e.object) === "relist") gone = true;
          },
          abort.signal,
        );
        if (gone) listedAt = 0;
        failures = 0;
      } catch (e) {
        if (abort.signal.aborted) return;
        opts.onError?.(e);
        listedAt = 0; // whatever happened meanwhile, a LIST restores it
        failures++;
        await sleep(Math.min(30_000, 500 * 2 ** Math.min(failures, 6)), abort.signal);
      }
    }
  }

  return {
    async list() {
      if (!started) {
        const first = relist();
        started = first.then(() => void run());
        // A failed first LIST (403, 404) is retried by the next caller, not by a loop.
        started.catch(() => (started = null));
      }
      await started;
      return [...items.values()];
    },
    upsert(o) {
      const held = items.get(keyOf(o));
      if (!held || notOlder(o.metadata?.resourceVersion, held.metadata?.resourceVersion)) items.set(keyOf(o), stamp(o));
    },
    remove(o) {
      items.delete(keyOf(o));
    },
    stop() {
      abort.abort();
    },
  };
}
