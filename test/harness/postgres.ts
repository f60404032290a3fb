// PostgreSQL for the suites, reached only the way production reaches Neon: through the Neon
// serverless driver over WebSocket, via the local proxy in wsproxy.ts.
//
// Which server (no system tool, no set-up step in the default case):
// - GATEHOUSE_TEST_PGHOST / GATEHOUSE_TEST_PGPORT (explicit opt-in): an existing server on which
//   the login role gatehouse_test already exists (the error says how to create it);
// - otherwise the run's own throwaway PostgreSQL 17 (embedded-postgres.ts), started once by
//   global-setup.ts, which hands its address to the workers in GATEHOUSE_TEST_PG_RUN;
// - with neither (a benchmark, or vitest without the global setup), this process starts one
//   and stops it when the last user releases the harness.
// On a server the harness starts, it creates gatehouse_test over the bootstrap superuser's
// connection: NOT a superuser (superusers bypass RLS even with FORCE), CREATEDB and CREATEROLE so
// that the migrations it runs can create gatehouse_app and grant itself membership, as on Neon.
// Then, once per schema, a migrated template database gatehouse_tmpl_<hash> (under an advisory
// lock, so parallel workers build it once); per test file, CREATE DATABASE ... TEMPLATE, dropped
// again by the file's cleanup.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { Pool } from "@neondatabase/serverless";
import { openDatabase } from "../../src/db/client.ts";
import { useLocalWsProxy } from "../../src/db/neon-local.ts";
import { startEmbeddedPostgres, type EmbeddedServer } from "./embedded-postgres.ts";
import { migrationsHash } from "./migrations-hash.ts";
import { startWsProxy } from "./wsproxy.ts";

export const ROLE = "gatehouse_test";
export const PASSWORD = "gatehouse_test"; // loopback-only test server
const TEMPLATE_LOCK = 7262101;
const DB_PREFIX = "gatehouse_test_";
/** host:port of the run's embedded server, set by global-setup.ts for its workers. */
const RUN_SERVER_ENV = "GATEHOUSE_TEST_PG_RUN";

export interface ServerAddress {
  host: string;
  port: number;
  /** "opt-in": GATEHOUSE_TEST_PGHOST/PORT; "embedded": a throwaway server the harness started. */
  source: "opt-in" | "embedded";
}

export interface TestPostgres {
  /** The WebSocket proxy address (NEON_WS_PROXY value). */
  proxy: string;
  /** The PostgreSQL server the databases live on. */
  server: ServerAddress;
  urlFor(database: string): string;
  /** A new database cloned from the migrated template. */
  createDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** Drop one reference; the last one stops the proxy, the admin pool and a server it started. */
  release(): Promise<void>;
}

let shared: { server: Promise<TestPostgres>; refs: number } | undefined;

/** Acquire the per-process Postgres harness (call release() when done). */
export function acquirePostgres(): Promise<TestPostgres> {
  if (!shared) {
    const state = { server: start(), refs: 0 };
    state.server.catch(() => {
      if (shared === state) shared = undefined;
    });
    shared = state;
  }
  shared.refs++;
  return shared.server;
}

/** The server named by the environment: the user's opt-in first, then the run's embedded one. */
export function configuredServer(env: Record<string, string | undefined> = process.env): ServerAddress | undefined {
  if (env.GATEHOUSE_TEST_PGHOST || env.GATEHOUSE_TEST_PGPORT) {
    const port = Number(env.GATEHOUSE_TEST_PGPORT ?? 5432);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`GATEHOUSE_TEST_PGPORT: not a port: ${env.GATEHOUSE_TEST_PGPORT}`);
    }
    return { host: env.GATEHOUSE_TEST_PGHOST || "127.0.0.1", port, source: "opt-in" };
  }
  const run = env[RUN_SERVER_ENV];
  if (!run) return undefined;
  const sep = run.lastIndexOf(":");
  return { host: run.slice(0, sep), port: Number(run.slice(sep + 1)), source: "embedded" };
}

/**
 * For global-setup.ts: unless the user opted in to a server, start the run's embedded one (with
 * the test role) and name it in the environment the workers inherit. Returns its stop().
 */
export async function startRunPostgres(): Promise<(() => Promise<void>) | undefined> {
  if (configuredServer()) return undefined;
  const wsProxy = await startWsProxy();
  try {
    useLocalWsProxy(wsProxy.address);
    const server = await startEmbeddedWithRole();
    process.env[RUN_SERVER_ENV] = `${server.host}:${server.port}`;
    return async () => {
      delete process.env[RUN_SERVER_ENV];
      await server.stop();
    };
  } finally {
    await wsProxy.close();
  }
}

/**
 * A SCRAM-SHA-256 verifier with ONE iteration. The Neon driver computes SCRAM's PBKDF2 in pure
 * JavaScript, synchronously: at PostgreSQL's default 4096 iterations every new connection blocks
 * the event loop ~300 ms. (Neon itself is reached with pipelineConnect, so no SCRAM there.)
 * A test-only role on a loopback server does not need key stretching.
 */
export function cheapScramVerifier(password: string): string {
  const salt = Buffer.from("gatehouse-test-salt");
  const salted = pbkdf2Sync(password, salt, 1, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return `SCRAM-SHA-256$1:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}

/** The one statement that makes a server usable by the harness (run as a superuser). */
export function createRoleSql(): string {
  return `CREATE ROLE ${ROLE} LOGIN PASSWORD '${cheapScramVerifier(PASSWORD)}' CREATEDB CREATEROLE NOSUPERUSER NOBYPASSRLS;`;
}

/** A fresh embedded server with the test role, created over its superuser's connection. */
async function startEmbeddedWithRole(): Promise<EmbeddedServer> {
  const server = await startEmbeddedPostgres();
  try {
    const { user, password } = server.superuser;
    const url = `postgres://${user}:${encodeURIComponent(password)}@${server.host}:${server.port}/postgres`;
    const admin = new Pool({ connectionString: url, max: 1 });
    admin.on("error", () => {});
    try {
      await admin.query(createRoleSql());
    } finally {
      await admin.end();
    }
    return server;
  } catch (err) {
    await server.stop();
    throw err;
  }
}

const isObjectInUse = (err: unknown) => (err as { code?: string }).code === "55006";
// DROP DATABASE ... WITH (FORCE) as the test role may not terminate a session of another role on
// it — an autovacuum worker that just started there — and says "permission denied to terminate
// process" (42501); the worker is gone a moment later.
const isOthersSession = (err: unknown) =>
  (err as { code?: string; message?: string }).code === "42501" && /terminate process/.test((err as Error).message ?? "");

/** CREATE/ALTER/DROP DATABASE fail while a just-closed (or someone else's) session on it is still exiting. */
async function retryInUse<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!(isObjectInUse(err) || isOthersSession(err)) || attempt >= 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Connect as the test role, explaining what to do when an opted-in server has no such role. */
async function connectAdmin(pool: Pool, server: ServerAddress) {
  try {
    return await pool.connect();
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (server.source === "opt-in" && (code === "28P01" || code === "28000")) {
      throw new Error(
        `cannot log in as ${ROLE} on ${server.host}:${server.port} (GATEHOUSE_TEST_PGHOST/PGPORT): ` +
          `create the role once, as a superuser:\n  ${createRoleSql()}\nor unset both variables to let the harness start its own server.`,
        { cause: err },
      );
    }
    throw err;
  }
}

async function start(): Promise<TestPostgres> {
  const wsProxy = await startWsProxy();
  useLocalWsProxy(wsProxy.address);
  let own: EmbeddedServer | undefined;
  let admin: Pool | undefined;
  try {
    let server = configuredServer();
    if (!server) {
      own = await startEmbeddedWithRole();
      server = { host: own.host, port: own.port, source: "embedded" };
    }
    const { host, port } = server;
    const urlFor = (database: string) => `postgres://${ROLE}:${PASSWORD}@${host}:${port}/${database}`;
    const pool = new Pool({ connectionString: urlFor("postgres"), max: 2 });
    admin = pool;
    pool.on("error", () => {});
    const template = `gatehouse_tmpl_${migrationsHash()}`;

    const client = await connectAdmin(pool, server);
    try {
      // RLS is what the suites prove: a role that bypasses it would pass them vacuously.
      const role = await client.query<{ rolsuper: boolean; rolbypassrls: boolean }>("select rolsuper, rolbypassrls from pg_roles where rolname = current_user");
      if (role.rows[0]?.rolsuper || role.rows[0]?.rolbypassrls) {
        throw new Error(`${ROLE} on ${host}:${port} bypasses row-level security; it must be NOSUPERUSER NOBYPASSRLS`);
      }
      await client.query("select pg_advisory_lock($1)", [TEMPLATE_LOCK]);
      try {
        const existing = await client.query<{ datname: string }>("select datname from pg_database where datname like 'gatehouse\\_%'");
        const names = existing.rows.map((r) => r.datname);
        // Databases left by crashed test processes on a shared (opted-in) server.
        for (const name of names) {
          const pid = Number(name.slice(DB_PREFIX.length).split("_")[0]);
          if (name.startsWith(DB_PREFIX) && pid > 0 && !pidAlive(pid)) {
            await client.query(`drop database if exists "${name}" with (force)`);
          }
        }
        if (!names.includes(template)) {
          const building = `${template}_building`;
          await client.query(`drop database if exists "${building}" with (force)`);
          await client.query(`create database "${building}"`);
          const db = await openDatabase({ url: urlFor(building), wsProxy: wsProxy.address });
          await db.close();
          await retryInUse(() => client.query(`alter database "${building}" rename to "${template}"`));
          // Templates of older schemas; one still in use elsewhere is left for a later run.
          for (const old of names.filter((n) => n.startsWith("gatehouse_tmpl_"))) {
            await client.query(`drop database if exists "${old}"`).catch(() => {});
          }
        }
      } finally {
        await client.query("select pg_advisory_unlock($1)", [TEMPLATE_LOCK]);
      }
    } finally {
      client.release();
    }

    let counter = 0;
    return {
      proxy: wsProxy.address,
      server,
      urlFor,
      async createDatabase() {
        const name = `${DB_PREFIX}${process.pid}_${++counter}_${randomBytes(3).toString("hex")}`;
        await retryInUse(() => pool.query(`create database "${name}" template "${template}"`));
        return {
          name,
          url: urlFor(name),
          drop: async () => {
            await retryInUse(() => pool.query(`drop database if exists "${name}" with (force)`));
          },
        };
      },
      async release() {
        if (!shared || --shared.refs > 0) return;
        shared = undefined;
        await pool.end();
        await wsProxy.close();
        await own?.stop();
      },
    };
  } catch (err) {
    await admin?.end().catch(() => {});
    await wsProxy.close();
    await own?.stop();
    throw err;
  }
}
