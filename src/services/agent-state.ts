// What the agent protocol needs on every request — the credential and everything its environment's
// desired state is made of — in one statement (gatehouse_agent_state, migrations/0019), and, where
// a connection outlives the request (Node), kept per credential between requests.
//
// The cache is correct across instances because the database says when it is not: triggers on
// every table the state is read from NOTIFY gatehouse_agent_state at commit, and each process
// forgets that environment. While the LISTEN connection is down (or not up yet), nothing is served
// from the cache, and all of it is dropped when notifications may have been missed. The clock is
// the one input no write announces: drafts that expire are dropped at render time, exemptions by
// the render cache's validity window (render-cache.ts), both from the cached documents. Where the
// database offers no listener (Workers), every request reads, in that one round trip.
import { sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { onCommit, type Database, type Db } from "../db/client.ts";
import type { OpenDraft } from "./render-cache.ts";

export const AGENT_STATE_CHANNEL = "gatehouse_agent_state";

export interface AgentState {
  credentialId: string;
  tenantId: string;
  environmentId: string;
  /** Hex sha256 of the credential's secret. */
  secretHash: string;
  revoked: boolean;
  environmentName: string;
  /** The environment's current revision (0: none yet). */
  revision: number;
  /** The current revision's document, or null. */
  document: unknown;
  /** Open drafts when loaded, in creation order. */
  drafts: readonly OpenDraft[];
  /** The clock reading it was loaded at: drafts were open then. */
  loadedAt: number;
}

interface Row extends Record<string, unknown> {
  state: (Omit<AgentState, "drafts" | "loadedAt"> & { drafts: { id: string; version: number; expiresAt: string; document: unknown }[] }) | null;
}

/** How often a credential's "last used" is written at most (a coarse fact; the agent's lastSeenAt is the fine one). */
export const TOUCH_MS = 10 * 60_000;

/**
 * The credential with prefix `prefix` and its environment's state at `now`, in one statement;
 * with `touchHash` (the presented secret's hash) the same statement records the credential's use.
 */
export async function loadAgentState(db: Database, prefix: string, now: Date, touchHash?: string): Promise<AgentState | null> {
  const at = now.toISOString();
  const [row] = await db.statement<Row>(
    sql`select gatehouse_agent_state(${prefix}, ${at}::timestamptz, ${touchHash ?? null}::text, make_interval(secs => ${TOUCH_MS / 1000})) as state`,
  );
  const s = row?.state;
  if (!s) return null;
  // PGlite and the Neon driver both hand jsonb over parsed; a driver that did not would fail here.
  const drafts = s.drafts.map((d) => ({ id: d.id, version: d.version, expiresAt: new Date(d.expiresAt), document: d.document }));
  return { ...s, drafts, loadedAt: now.getTime() };
}

// Every cache of this process, so that what a write in this process changes (a revision, a rename,
// a draft, a credential revoked, rotated or deleted) is forgotten here the moment its transaction
// commits, not a notification later. Only a head start: the triggers' NOTIFY is what makes it
// correct, here and everywhere else, whichever code writes.
const local = new Set<(envKey: string) => void>();

/** In `tx`: once it commits, this process's caches forget the environment's credentials and state. */
export function forgetAgentState(tx: Db, tenantId: string, environmentId: string): void {
  onCommit(tx, () => {
    for (const forget of local) forget(`${tenantId}/${environmentId}`);
  });
}

// A safety net only: entries are forgotten on notification; this bounds what a notification that
// never arrives (a bug, a listener that looks alive but is not) could cost.
const MAX_AGE_MS = 5 * 60_000;
const LIMIT = 100_000;

export interface AgentStateCache {
  /**
   * The state for the credential `prefix` at `now` (null: no such credential), read through `db`;
   * with `touchHash`, read (and the use recorded) even when cached.
   */
  get(db: Database, prefix: string, now: Date, touchHash?: string): Promise<AgentState | null>;
  /** Whether entries are being served (the listener is up). */
  readonly live: boolean;
}

/**
 * One per app instance: each instance listens for itself, as separate processes do. `listenOn`:
 * the database to take notifications from; without one (or one without a listener) nothing is kept.
 */
export function agentStateCache(listenOn: Database | undefined): AgentStateCache {
  const entries = new LRUCache<string, AgentState>({ max: LIMIT });
  // Which cached credentials belong to an environment, to forget them on its notification.
  const byEnvironment = new Map<string, Set<string>>();
  // Bumped on every notification or loss of the listener: a load that started before it may have
  // read the old state, and must not be cached.
  let generation = 0;
  let live = false;
  let subscribed = false;

  const forgetAll = () => {
    generation++;
    entries.clear();
    byEnvironment.clear();
  };
  const forget = (envKey: string) => {
    generation++;
    for (const prefix of byEnvironment.get(envKey) ?? []) entries.delete(prefix);
    byEnvironment.delete(envKey);
  };
  local.add(forget);
  const subscribe = () => {
    if (subscribed || !listenOn?.listen) return;
    subscribed = true;
    listenOn.listen(AGENT_STATE_CHANNEL, {
      notify: (payload) => (payload.includes("/") ? forget(payload) : forgetAll()),
      live(now) {
        forgetAll();
        live = now;
      },
    });
  };

  return {
    get live() {
      return live;
    },
    async get(db, prefix, now, touchHash) {
      subscribe();
      const t = now.getTime();
      if (live && !touchHash) {
        const hit = entries.get(prefix);
        // A clock set back (t < loadedAt) may need drafts that had expired at load time: read again.
        if (hit && t >= hit.loadedAt && t - hit.loadedAt < MAX_AGE_MS) return hit;
      }
      const started = generation;
      const state = await loadAgentState(db, prefix, now, touchHash);
      if (state && live && started === generation) {
        entries.set(prefix, state);
        const envKey = `${state.tenantId}/${state.environmentId}`;
        let set = byEnvironment.get(envKey);
        if (!set) {
          set = new Set();
          byEnvironment.set(envKey, set);
        }
        set.add(prefix);
      }
      return state;
    },
  };
}
