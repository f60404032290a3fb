// One Database interface over two drivers: embedded PGlite (persisted data dir, `npm start` with
// no server) and Postgres through the Neon serverless driver (Neon in production; the local
// PostgreSQL through a WebSocket proxy in tests). Drivers load lazily so neither is paid for
// when unused.
import { sql, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import type { PGlite } from "@electric-sql/pglite";
import { type Begin, neonBegin } from "./neon-begin.ts";
import { preparing } from "./prepared.ts";
import * as schema from "./schema.ts";

export type Schema = typeof schema;

/** What `tx.execute(sql...)` resolves to on both drivers: at least the rows. */
export interface DbQueryResultHKT extends PgQueryResultHKT {
  readonly type: QueryRows<this["row"]>;
}
type QueryRows<R> = { rows: (R extends Record<string, unknown> ? R : never)[] };

/** A drizzle handle (always a transaction here) with the Gatehouse schema, on either driver. */
export type Db = PgDatabase<DbQueryResultHKT, Schema>;

export interface Database {
  /** RLS-enforced: one transaction, `SET LOCAL ROLE gatehouse_app` + set_config('app.tenant_id', id, true). */
  withTenant<T>(tenantId: string, fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Owner connection, no RLS: ONLY for resolving tenants by slug and looking up credentials by prefix. */
  asSystem<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /**
   * One statement outside any transaction: one round trip, owner role, no tenant set — so RLS
   * shows it nothing unless it calls a function that scopes itself (migrations/0019_agent_state.sql).
   */
  statement<R extends Record<string, unknown>>(query: SQL): Promise<R[]>;
  /**
   * Subscribe to a NOTIFY channel (absent where no connection outlives a request: Workers).
   * `live(false)` whenever notifications may have been missed (the connection dropped), `live(true)`
   * once they flow again; a subscriber must not trust what it cached while not live.
   */
  listen?(channel: string, handlers: ListenHandlers): () => void;
  close(): Promise<void>;
  /** Pool occupancy (Neon driver only; PGlite has one connection and no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
}

export interface ListenHandlers {
  notify(payload: string): void;
  live(live: boolean): void;
}

export interface OpenOptions {
  /** postgres:// URL → Neon driver. Absent → embedded PGlite. */
  url?: string;
  /** PGlite data directory (default ./.gatehouse/data); `memory://` keeps it in memory. */
  dataDir?: string;
  /** WebSocket→TCP proxy for a non-Neon Postgres (config NEON_WS_PROXY), e.g. 127.0.0.1:5480. */
  wsProxy?: string;
  /** Neon Pool size (config DATABASE_POOL_SIZE; default 10). */
  poolSize?: number;
  /** Named prepared statements on the Neon Pool (config DATABASE_PREPARED_STATEMENTS; default true). */
  preparedStatements?: boolean;
  /** How long a request waits for a pooled connection, or for a new one to open (config DATABASE_POOL_WAIT_MS); 0: no limit. */
  poolWaitMs?: number;
}

export const DEFAULT_DATA_DIR = "./.gatehouse/data";
/** DATABASE_POOL_WAIT_MS's default: past it a request is answered 503 (databaseBusy), not kept waiting. */
export const DEFAULT_POOL_WAIT_MS = 10_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** SQLSTATE codes callers map to responses. */
export const PG = {
  uniqueViolation: "23505",
  foreignKeyViolation: "23503",
  checkViolation: "23514",
  insufficientPrivilege: "42501", // also: a row refused by a row-level-security policy
} as const;

/** The SQLSTATE of a database error, looking through drizzle's DrizzleQueryError wrapper. */
export function pgErrorCode(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

// SQLSTATEs of a database that takes no more connections for the moment: 53300
// too_many_connections, 53400 configuration_limit_exceeded, 53000 insufficient_resources, 57P03
// cannot_connect_now, class 08 connection exceptions (also what pgbouncer sends when its own limits
// are reached, 08P01).
const UNAVAILABLE_CODES = /^(53000|53300|53400|57P03|08...)$/;
// What the driver's pool (pg-pool, bundled by @neondatabase/serverless) rejects with once
// connectionTimeoutMillis has passed: waiting in its queue, and opening a new connection.
const POOL_TIMEOUTS = new Set(["timeout exceeded when trying to connect", "Connection terminated due to connection timeout"]);

/**
 * A moment's overload of the database, not a fault of the request: PostgreSQL (or a pooler)
 * refusing connections, or no pooled connection free within DATABASE_POOL_WAIT_MS.
 */
export function databaseBusy(err: unknown): boolean {
  const code = pgErrorCode(err);
  if (code) return UNAVAILABLE_CODES.test(code);
  for (let e = err, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (POOL_TIMEOUTS.has(e.message)) return true;
    e = e.cause;
  }
  return false;
}

type Migrator = () => Promise<void>;
const migrators = new WeakMap<Database, Migrator>();

/** Apply pending migrations (idempotent: applied ones are recorded in drizzle.__drizzle_migrations). */
export async function migrate(db: Database): Promise<void> {
  const run = migrators.get(db);
  if (!run) throw new Error("migrate(): not a Database from openDatabase()");
  await run();
}

/** Open (and migrate) the configured database. */
export async function openDatabase(cfg: OpenOptions = {}): Promise<Database> {
  if (cfg.url) {
    // Settings come from the caller (src/app/config.ts validates the environment), never from
    // process.env here: a bad value is a startup error there, not a silent default here.
    if (cfg.wsProxy) (await import("./neon-local.ts")).useLocalWsProxy(cfg.wsProxy);
    const { Pool } = await import("@neondatabase/serverless");
    const max = cfg.poolSize ?? 10;
    // connectionTimeoutMillis bounds both the wait in the pool's queue and a new connection's
    // opening: past it, the request fails with databaseBusy's error (503 + Retry-After) instead of
    // queueing without end behind a burst.
    const pool = new Pool({ connectionString: cfg.url, max, connectionTimeoutMillis: cfg.poolWaitMs ?? DEFAULT_POOL_WAIT_MS });
    // An idle client dropped by the server must not crash the process; the pool replaces it.
    pool.on("error", () => {});
    const db = await fromNeonPool(pool, { preparedStatements: cfg.preparedStatements ?? true });
    try {
      await migrate(db);
    } catch (err) {
      await db.close();
      throw err;
    }
    return db;
  }
  const dataDir = cfg.dataDir ?? DEFAULT_DATA_DIR;
  const { PGlite } = await import("@electric-sql/pglite");
  if (!dataDir.includes("://")) {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(dataDir, { recursive: true });
  }
  const db = await fromPglite(new PGlite(dataDir));
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

/** Wrap an existing PGlite (e.g. one loaded from a template dump). Does not migrate. */
export async function fromPglite(client: PGlite): Promise<Database> {
  const { drizzle } = await import("drizzle-orm/pglite");
  const d = drizzle({ client, schema });
  // PGlite is one connection: its transaction() holds a mutex, so concurrent callers queue.
  const db = wrap(d as unknown as Db, () => client.close());
  // One connection, in this process: a notification is handed over with the result of the
  // statement that committed it, before that statement's caller goes on.
  db.listen = (channel, handlers) => {
    let stop: (() => Promise<void>) | undefined;
    let stopped = false;
    client.listen(channel, handlers.notify).then(
      (unlisten) => {
        if (stopped) return void unlisten();
        stop = unlisten;
        handlers.live(true);
      },
      () => handlers.live(false),
    );
    return () => {
      stopped = true;
      void stop?.();
    };
  };
  migrators.set(db, async () => {
    const { migrate: run } = await import("drizzle-orm/pglite/migrator");
    await run(d, { migrationsFolder: await migrationsFolder() });
  });
  return db;
}

type NeonPool = import("@neondatabase/serverless").Pool;

/**
 * Wrap a Neon driver Pool. Does not migrate. `preparedStatements`: its transactions run
 * executePrepared's statements (prepared.ts) as named prepared statements (for a pool whose connections outlive
 * the request; Workers open one per request, where a statement would be prepared for one use).
 */
export async function fromNeonPool(pool: NeonPool, opts: { preparedStatements?: boolean } = {}): Promise<Database> {
  const { drizzle } = await import("drizzle-orm/neon-serverless");
  const d = drizzle({ client: pool, schema });
  const db = wrap(d as unknown as Db, () => pool.end(), { prepared: opts.preparedStatements ?? false, begin: await neonBegin(pool, d as unknown as Db) });
  db.poolStats = () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount });
  const listener = neonListener(pool);
  db.listen = listener.listen;
  const closePool = db.close;
  db.close = () => {
    listener.close();
    return closePool();
  };
  migrators.set(db, async () => {
    // One connection holding an advisory lock, so instances starting together migrate in turn.
    const client = await pool.connect();
    try {
      await client.query("select pg_advisory_lock(7262100)");
      try {
        const { migrate: run } = await import("drizzle-orm/neon-serverless/migrator");
        await run(drizzle({ client, schema }), { migrationsFolder: await migrationsFolder() });
      } finally {
        await client.query("select pg_advisory_unlock(7262100)");
      }
    } finally {
      client.release();
    }
  });
  return db;
}

const LISTEN_PING_MS = 15_000;
const LISTEN_RETRY_MS = 1_000;

/**
 * One dedicated connection per pool for LISTEN (outside the pool: it is held for good), opened on
 * the first subscription. A dropped or silent connection (a ping every LISTEN_PING_MS that does
 * not come back) makes every subscriber not live until a new one is listening again.
 */
function neonListener(pool: NeonPool) {
  const subs = new Map<string, Set<ListenHandlers>>();
  let client: import("@neondatabase/serverless").Client | undefined;
  let connecting = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  // Timers must not keep a process alive that has nothing else to do.
  const later = (fn: () => void, ms: number) => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  };
  const each = (fn: (h: ListenHandlers) => void) => {
    for (const set of subs.values()) for (const h of set) fn(h);
  };
  const drop = (c: NonNullable<typeof client>) => {
    if (client !== c) return;
    client = undefined;
    each((h) => h.live(false));
    c.end().catch(() => {});
    if (!closed) timer = later(connect, LISTEN_RETRY_MS);
  };
  async function open() {
    const { Client } = await import("@neondatabase/serverless");
    const c = new Client((pool as unknown as { options: ConstructorParameters<typeof Client>[0] }).options);
    c.on("error", () => drop(c));
    c.on("end", () => drop(c));
    c.on("notification", (m: { channel: string; payload?: string }) => {
      for (const h of subs.get(m.channel) ?? []) h.notify(m.payload ?? "");
    });
    try {
      await c.connect();
      for (const channel of subs.keys()) await c.query(`LISTEN "${channel}"`);
    } catch (err) {
      c.end().catch(() => {});
      throw err;
    }
    if (closed) return void c.end().catch(() => {});
    client = c;
    each((h) => h.live(true));
    const ping = () => {
      if (client !== c) return;
      const timeout = later(() => drop(c), LISTEN_PING_MS);
      c.query("select 1").then(
        () => {
          clearTimeout(timeout);
          if (client === c) timer = later(ping, LISTEN_PING_MS);
        },
        () => {
          clearTimeout(timeout);
          drop(c);
        },
      );
    };
    timer = later(ping, LISTEN_PING_MS);
  }
  function connect() {
    if (closed || client || connecting) return;
    connecting = true;
    open()
      .catch(() => {
        if (!closed) timer = later(connect, LISTEN_RETRY_MS);
      })
      .finally(() => (connecting = false));
  }
  return {
    listen(channel: string, handlers: ListenHandlers): () => void {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`listen: not a plain channel name: ${channel}`);
      const known = subs.has(channel);
      const set = subs.get(channel) ?? new Set<ListenHandlers>();
      subs.set(channel, set);
      set.add(handlers);
      const c = client;
      if (c && known) queueMicrotask(() => client === c && handlers.live(true));
      else if (c)
        c.query(`LISTEN "${channel}"`).then(
          () => client === c && handlers.live(true),
          () => drop(c),
        );
      else connect();
      return () => {
        set.delete(handlers);
      };
    },
    close() {
      closed = true;
      clearTimeout(timer);
      const c = client;
      client = undefined;
      c?.end().catch(() => {});
    },
  };
}

const commitHooks = new WeakMap<object, (() => void)[]>();

/**
 * Run `fn` after the transaction `tx` (one opened by withTenant or asSystem) commits; never if it
 * rolls back. For in-process effects that must not happen before other connections can see the
 * change, like forgetting a cached value a concurrent reader could otherwise re-cache from the
 * old snapshot. Outside such a transaction it runs at once.
 */
export function onCommit(tx: Db, fn: () => void): void {
  const hooks = commitHooks.get(tx);
  if (hooks) hooks.push(fn);
  else fn();
}

/** drizzle's transaction(), then the setup: two round trips (PGlite's are in-process). */
const drizzleBegin =
  (d: Db): Begin =>
  (setup, fn) =>
    d.transaction(async (t) => {
      const tx = t as unknown as Db;
      await tx.execute(sql.raw(setup));
      return fn(tx);
    });

async function inTransaction<T>(begin: Begin, setup: string, fn: (tx: Db) => Promise<T>, prepared: boolean): Promise<T> {
  const hooks: (() => void)[] = [];
  const result = await begin(setup, (tx) => {
    commitHooks.set(tx, hooks);
    if (prepared) preparing.add(tx);
    return fn(tx);
  });
  for (const hook of hooks) hook();
  return result;
}

function wrap(d: Db, closeClient: () => Promise<void>, opts: { prepared?: boolean; begin?: Begin } = {}): Database {
  let closing: Promise<void> | undefined;
  const begin = opts.begin ?? drizzleBegin(d);
  const prepared = opts.prepared ?? false;
  return {
    withTenant(tenantId, fn) {
      // Checked here so a bad id fails loudly instead of as a cast error inside a policy — and
      // because the setup is sent as text, without parameters (neon-begin.ts).
      if (!UUID.test(tenantId)) return Promise.reject(new Error(`withTenant: not a UUID: ${tenantId}`));
      // set_config('role', …, true) is SET LOCAL ROLE; both end with the transaction.
      return inTransaction(begin, `select set_config('role', 'gatehouse_app', true), set_config('app.tenant_id', '${tenantId}', true)`, fn, prepared);
    },
    asSystem(fn) {
      // Lets the owning role past FORCE ROW LEVEL SECURITY (policy system_access), this
      // transaction only. Superusers (PGlite's default user) bypass RLS anyway.
      return inTransaction(begin, "select set_config('app.system', 'on', true)", fn, prepared);
    },
    async statement<R extends Record<string, unknown>>(query: SQL) {
      return ((await d.execute(query)) as unknown as { rows: R[] }).rows;
    },
    close() {
      closing ??= closeClient();
      return closing;
    },
  };
}

async function migrationsFolder(): Promise<string> {
  const { fileURLToPath } = await import("node:url");
  return fileURLToPath(new URL("../../migrations/", import.meta.url));
}
