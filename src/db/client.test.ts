// The database client's lifecycle: a persisted PGlite data dir survives close/reopen, migrations
// are recorded and never re-applied, the RLS migration works for a non-superuser owner, and
// onCommit hooks run only after a commit; and which failures count as the database being busy.
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { neonConfig } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/harness/backends.ts";
import { pgliteTemplate } from "../../test/harness/pglite.ts";
import { EnvironmentSettings } from "../policies/index.ts";
import { appendRevision } from "../services/revisions.ts";
import { databaseBusy, fromPglite, migrate, onCommit, openDatabase, type Database } from "./client.ts";
import { environments, tenants } from "./schema.ts";

const journal = JSON.parse(readFileSync(new URL("../../migrations/meta/_journal.json", import.meta.url), "utf8")) as { entries: unknown[] };

async function appliedMigrations(db: Database): Promise<number> {
  const res = await db.asSystem((tx) => tx.execute<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
  return res.rows[0]!.n;
}

describe("PGlite persisted in a data directory", () => {
  const root = mkdtempSync(join(tmpdir(), "gatehouse-db-"));
  const dataDir = join(root, "nested", "data");
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("keeps its data across close and reopen without re-applying migrations", async () => {
    const first = await openDatabase({ dataDir }); // initdb: the slow path, once
    expect(await appliedMigrations(first)).toBe(journal.entries.length);
    await first.asSystem((tx) => tx.insert(tenants).values({ slug: "acme", name: "Acme" }));
    await first.close();
    await first.close(); // idempotent

    const second = await openDatabase({ dataDir });
    try {
      const rows = await second.asSystem((tx) => tx.select().from(tenants));
      expect(rows.map((t) => t.slug)).toEqual(["acme"]);
      expect(await appliedMigrations(second)).toBe(journal.entries.length);
      // RLS still in force after reopening.
      const seen = await second.withTenant(rows[0]!.id, (tx) => tx.select().from(tenants));
      expect(seen).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});

describe.each(backends())("migrations on $name", (backend) => {
  afterAll(() => backend.cleanup());

  it("are idempotent: running them again changes nothing", async () => {
    const db = await backend.open();
    await db.asSystem((tx) => tx.insert(tenants).values({ slug: "keep", name: "Keep" }));
    await migrate(db);
    await migrate(db);
    expect(await appliedMigrations(db)).toBe(journal.entries.length);
    expect(await db.asSystem((tx) => tx.select().from(tenants))).toHaveLength(1);
  });
});

describe("the RLS migration under a non-superuser owner (PostgreSQL 16+ rules, as on Neon)", () => {
  it("creates gatehouse_app, grants the owner SET on it, and scopes the owner too", async () => {
    // Start from the template, then wipe it back to an empty database owned by a CREATEROLE
    // role: PG 16+ grants a creator membership without SET, which the migration must fix.
    const pg = new PGlite({ loadDataDir: await pgliteTemplate() });
    await pg.exec(`
      drop schema public cascade; drop schema drizzle cascade; create schema public;
      drop owned by gatehouse_app; drop role gatehouse_app;
      create role neon_like_owner login createrole nosuperuser;
      grant create on database postgres to neon_like_owner;
      alter schema public owner to neon_like_owner;
      set role neon_like_owner;`);
    const db = await fromPglite(pg);
    try {
      await migrate(db);
      const [a, b] = await db.asSystem((tx) =>
        tx
          .insert(tenants)
          .values([
            { slug: "a", name: "A" },
            { slug: "b", name: "B" },
          ])
          .returning(),
      );
      await db.asSystem((tx) =>
        tx.insert(environments).values([
          { tenantId: a!.id, name: "a-prod" },
          { tenantId: b!.id, name: "b-prod" },
        ]),
      );
      const seen = await db.withTenant(a!.id, (tx) => tx.select().from(environments));
      expect(seen.map((e) => e.name)).toEqual(["a-prod"]);
      expect(await db.asSystem((tx) => tx.select().from(environments))).toHaveLength(2);
      // FORCE: the owner outside asSystem is held by the policies too.
      const owner = await db.asSystem(async (tx) => {
        await tx.execute(sql`select set_config('app.system', 'off', true)`);
        return tx.select().from(environments);
      });
      expect(owner).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

describe.each(backends())("onCommit on $name", (backend) => {
  let db: Database;
  beforeAll(async () => {
    db = await backend.open();
  });
  afterAll(() => backend.cleanup());

  it("runs after the commit, in order, and never after a rollback", async () => {
    const ran: string[] = [];
    const [tenant] = await db.asSystem(async (tx) => {
      onCommit(tx, () => ran.push("first"));
      onCommit(tx, () => ran.push("second"));
      expect(ran).toEqual([]); // not yet: other connections cannot see the row
      return tx.insert(tenants).values({ slug: "on-commit", name: "x" }).returning();
    });
    expect(ran).toEqual(["first", "second"]);

    await expect(
      db.withTenant(tenant!.id, async (tx) => {
        onCommit(tx, () => ran.push("rolled back"));
        throw new Error("abort");
      }),
    ).rejects.toThrow("abort");
    expect(ran).toEqual(["first", "second"]);
  });

  it("a hook of a revision write runs only once the write is committed", async () => {
    const [tenant] = await db.asSystem((tx) => tx.insert(tenants).values({ slug: "rev-cache", name: "x" }).returning());
    const tenantId = tenant!.id;
    const [env] = await db.withTenant(tenantId, (tx) => tx.insert(environments).values({ tenantId, name: "prod" }).returning());
    const document = EnvironmentSettings.parse({});
    await db.withTenant(tenantId, (tx) => appendRevision(tx, { tenantId, environmentId: env!.id, expected: 0, document, author: "t" }));
    let committed = false;
    await db.withTenant(tenantId, async (tx) => {
      const appended = await appendRevision(tx, { tenantId, environmentId: env!.id, expected: 1, document, author: "t" });
      expect(appended).toEqual({ ok: true, revision: 2 });
      onCommit(tx, () => (committed = true));
      expect(committed).toBe(false);
    });
    expect(committed).toBe(true);
  });
});

describe("databaseBusy: what the API answers 503 + Retry-After instead of 500", () => {
  it("a new connection that does not open within poolWaitMs (an endpoint that accepts and never answers)", async () => {
    const server = net.createServer(() => {}).listen(0, "127.0.0.1");
    await once(server, "listening");
    // openDatabase points the driver at that proxy process-wide: this file's PostgreSQL pools get theirs back after.
    const { webSocketConstructor, wsProxy, useSecureWebSocket, pipelineConnect, pipelineTLS } = neonConfig;
    try {
      const port = (server.address() as net.AddressInfo).port;
      const err = await openDatabase({ url: "postgres://u:p@db.invalid:5432/x", wsProxy: `127.0.0.1:${port}`, poolWaitMs: 300 }).then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as Error).message).toBe("Connection terminated due to connection timeout");
      expect(databaseBusy(err)).toBe(true);
    } finally {
      Object.assign(neonConfig, { webSocketConstructor, wsProxy, useSecureWebSocket, pipelineConnect, pipelineTLS });
      server.close();
    }
  });

  it("not an ordinary failure: a constraint violation, an unknown error", () => {
    expect(databaseBusy(Object.assign(new Error("duplicate key"), { code: "23505" }))).toBe(false);
    expect(databaseBusy(new Error("timeout exceeded"))).toBe(false);
    expect(databaseBusy(new Error("wrapped", { cause: Object.assign(new Error("too many clients"), { code: "53300" }) }))).toBe(true);
  });
});
