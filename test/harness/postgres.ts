// The machine's PostgreSQL 15, reached only the way production reaches Neon: through the Neon
// serverless driver over WebSocket, via the local proxy in wsproxy.ts.
//
// Setup is idempotent and needs only a running cluster (.ci/run: `pg_ctlcluster 15 main start`):
// - as the postgres OS user (psql over the unix socket) create the login role gatehouse_test:
//   NOT a superuser (superusers bypass RLS even with FORCE), CREATEDB and CREATEROLE so that the
//   migrations it runs can create gatehouse_app and grant itself membership, as on Neon;
// - once per schema, a migrated template database gatehouse_tmpl_<hash> (under an advisory
//   lock, so parallel workers build it once);
// - per test file, CREATE DATABASE ... TEMPLATE, dropped again by the file's cleanup.
import { execFileSync } from "node:child_process";
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { Pool } from "@neondatabase/serverless";
import { openDatabase } from "../../src/db/client.ts";
import { useLocalWsProxy } from "../../src/db/neon-local.ts";
import { migrationsHash } from "./migrations-hash.ts";
import { startWsProxy } from "./wsproxy.ts";

const ROLE = "gatehouse_test";
const PASSWORD = "gatehouse_test"; // loopback-only test cluster
const HOST = process.env.GATEHOUSE_TEST_PGHOST ?? "127.0.0.1";
const PORT = Number(process.env.GATEHOUSE_TEST_PGPORT ?? 5432);
const TEMPLATE_LOCK = 7262101;
const DB_PREFIX = "gatehouse_test_";

export interface TestPostgres {
  /** The WebSocket proxy address (NEON_WS_PROXY value). */
  proxy: string;
  urlFor(database: string): string;
  /** A new database cloned from the migrated template. */
  createDatabase(): Promise<{ name: string; url: string; drop(): Promise<void> }>;
  /** Drop one reference; the last one stops the proxy and the admin pool. */
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

function psqlAdmin(sql: string): string {
  const args = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql];
  const isRoot = process.getuid?.() === 0;
  const [cmd, argv] = isRoot
    ? ["runuser", ["-u", "postgres", "--", "psql", ...args]]
    : ["psql", ["-U", "postgres", ...args]];
  try {
    return execFileSync(cmd, argv, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(
      `psql as postgres failed (is the cluster up? \`pg_ctlcluster 15 main start\`): ${stderr}`,
    );
  }
}

/**
 * A SCRAM-SHA-256 verifier with ONE iteration. The Neon driver computes SCRAM's PBKDF2 in pure
 * JavaScript, synchronously: at PostgreSQL's default 4096 iterations every new connection blocks
 * the event loop ~300 ms. (Neon itself is reached with pipelineConnect, so no SCRAM there.)
 * A test-only role on a loopback cluster does not need key stretching.
 */
function cheapScramVerifier(password: string): string {
  const salt = Buffer.from("gatehouse-test-salt");
  const salted = pbkdf2Sync(password, salt, 1, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest("base64");
  const serverKey = createHmac("sha256", salted).update("Server Key").digest("base64");
  return `SCRAM-SHA-256$1:${salt.toString("base64")}$${storedKey}:${serverKey}`;
}

function ensureRole(): void {
  const verifier = cheapScramVerifier(PASSWORD);
  psqlAdmin(`DO $do$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${ROLE}') THEN
      CREATE ROLE ${ROLE} LOGIN PASSWORD '${verifier}' CREATEDB CREATEROLE NOSUPERUSER NOBYPASSRLS;
    ELSIF NOT EXISTS (SELECT 1 FROM pg_authid WHERE rolname = '${ROLE}' AND rolpassword = '${verifier}') THEN
      ALTER ROLE ${ROLE} PASSWORD '${verifier}';
    END IF;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
  END $do$;`);
}

const isObjectInUse = (err: unknown) => (err as { code?: string }).code === "55006";

/** CREATE/ALTER DATABASE fail while a just-closed session on the source is still exiting. */
async function retryInUse<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isObjectInUse(err) || attempt >= 50) throw err;
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

async function start(): Promise<TestPostgres> {
  ensureRole();
  const wsProxy = await startWsProxy();
  useLocalWsProxy(wsProxy.address);
  const urlFor = (database: string) =>
    `postgres://${ROLE}:${PASSWORD}@${HOST}:${PORT}/${database}`;
  const admin = new Pool({ connectionString: urlFor("postgres"), max: 2 });
  admin.on("error", () => {});
  const template = `gatehouse_tmpl_${migrationsHash()}`;

  const client = await admin.connect();
  try {
    await client.query("select pg_advisory_lock($1)", [TEMPLATE_LOCK]);
    try {
      const existing = await client.query<{ datname: string }>(
        "select datname from pg_database where datname like 'gatehouse\\_%'",
      );
      const names = existing.rows.map((r) => r.datname);
      // Databases left by crashed test processes on this machine.
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
    urlFor,
    async createDatabase() {
      const name = `${DB_PREFIX}${process.pid}_${++counter}_${randomBytes(3).toString("hex")}`;
      await retryInUse(() => admin.query(`create database "${name}" template "${template}"`));
      return {
        name,
        url: urlFor(name),
        drop: async () => {
          await admin.query(`drop database if exists "${name}" with (force)`);
        },
      };
    },
    async release() {
      if (!shared || --shared.refs > 0) return;
      shared = undefined;
      await admin.end();
      await wsProxy.close();
    },
  };
}
