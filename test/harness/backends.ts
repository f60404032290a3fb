// Both database backends behind one shape, so suites run on each:
//   describe.each(backends())("$name", (backend) => { ... backend.open() ... backend.cleanup() })
// Nothing starts until open() is called. GATEHOUSE_TEST_BACKENDS=pglite (or postgres) narrows
// the list, e.g. on a machine without PostgreSQL.
import type { Database } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/client.ts";
import { openPgliteFromTemplate, pgliteTemplate } from "./pglite.ts";
import { acquirePostgres } from "./postgres.ts";

export type BackendName = "pglite" | "postgres";

export interface TestBackend {
  name: BackendName;
  /** A new, empty, migrated database (each call a separate one). */
  open(): Promise<Database>;
  /** Close every database open() returned and remove it. Safe to call more than once. */
  cleanup(): Promise<void>;
}

export const BACKEND_NAMES: readonly BackendName[] = ["pglite", "postgres"];

export function backends(): TestBackend[] {
  const wanted = process.env.GATEHOUSE_TEST_BACKENDS?.split(",").map((s) => s.trim());
  return BACKEND_NAMES.filter((n) => !wanted || wanted.includes(n)).map(backend);
}

export function backend(name: BackendName): TestBackend {
  return name === "pglite" ? pgliteBackend() : postgresBackend();
}

function pgliteBackend(): TestBackend {
  const open: Database[] = [];
  return {
    name: "pglite",
    async open() {
      const db = await openPgliteFromTemplate();
      open.push(db);
      return db;
    },
    async cleanup() {
      await Promise.all(open.splice(0).map((db) => db.close()));
    },
  };
}

function postgresBackend(): TestBackend {
  const open: { db: Database; drop(): Promise<void> }[] = [];
  return {
    name: "postgres",
    async open() {
      const pg = await acquirePostgres();
      try {
        const created = await pg.createDatabase();
        const db = await openDatabase({ url: created.url, wsProxy: pg.proxy });
        open.push({
          db,
          drop: async () => {
            await db.close();
            await created.drop();
            await pg.release();
          },
        });
        return db;
      } catch (err) {
        await pg.release();
        throw err;
      }
    },
    async cleanup() {
      for (const entry of open.splice(0)) await entry.drop();
    },
  };
}

/** Build both templates up front (e.g. from vitest globalSetup) so workers never race to. */
export async function prepareTestDatabases(): Promise<void> {
  const names = backends().map((b) => b.name);
  if (names.includes("pglite")) await pgliteTemplate();
  if (names.includes("postgres")) await (await acquirePostgres()).release();
}
