// Transactions on the Neon driver's Pool open in one round trip (neon-begin.ts), on real
// PostgreSQL: the statements a connection is sent are counted at the client. The setup takes
// effect (RLS role and tenant), an error rolls everything back and returns a clean connection,
// and a tenant id that is not a UUID never reaches the database as text.
import { Pool } from "@neondatabase/serverless";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { acquirePostgres, type TestPostgres } from "../../test/harness/postgres.ts";
import { ensureTenant } from "../app/auth.ts";
import { type Database, fromNeonPool, migrate } from "./client.ts";
import { useLocalWsProxy } from "./neon-local.ts";

let pg: TestPostgres;
let drop: () => Promise<void>;
let db: Database;
const sent: string[] = [];
let tenantId: string;

beforeAll(async () => {
  pg = await acquirePostgres();
  const created = await pg.createDatabase();
  drop = created.drop;
  useLocalWsProxy(pg.proxy);
  const pool = new Pool({ connectionString: created.url, max: 1 });
  // Every query text a pooled connection is sent, in order (the pool announces each new one).
  pool.on("connect", (client: { query: (...a: unknown[]) => unknown }) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    client.query = (...args: unknown[]) => {
      const q = args[0];
      sent.push(typeof q === "string" ? q : (q as { text: string }).text);
      return query(...args);
    };
  });
  db = await fromNeonPool(pool);
  await migrate(db);
  tenantId = await ensureTenant(db, "begin");
}, 60_000);
afterAll(async () => {
  await db?.close();
  await drop?.();
  await pg?.release();
});

describe("transactions on the Neon pool", () => {
  it("open with their setup in one round trip: begin and set_config, the statement, commit", async () => {
    sent.length = 0;
    const row = await db.withTenant(tenantId, async (tx) => {
      const { rows } = await tx.execute<{ role: string; tenant: string }>(sql`select current_user as role, current_setting('app.tenant_id') as tenant`);
      return rows[0]!;
    });
    expect(row).toEqual({ role: "gatehouse_app", tenant: tenantId });
    expect(sent).toHaveLength(3);
    expect(sent[0]).toBe(`begin; select set_config('role', 'gatehouse_app', true), set_config('app.tenant_id', '${tenantId}', true)`);
    expect(sent[2]).toBe("commit");

    sent.length = 0;
    await db.asSystem((tx) => tx.execute(sql`select 1`));
    expect(sent).toEqual(["begin; select set_config('app.system', 'on', true)", "select 1", "commit"]);
  });

  it("an error rolls back what the transaction wrote, and the connection is clean for the next one", async () => {
    sent.length = 0;
    const boom = new Error("boom");
    await expect(
      db.withTenant(tenantId, async (tx) => {
        await tx.execute(sql`insert into environments (tenant_id, name, current_revision) values (${tenantId}::uuid, 'rolled-back', 0)`);
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(sent.at(-1)).toBe("rollback");
    const after = await db.withTenant(tenantId, async (tx) => {
      const { rows } = await tx.execute<{ n: number; role: string; tenant: string; open: boolean }>(
        sql`select (select count(*)::int from environments where name = 'rolled-back') as n, current_user as role,
                   current_setting('app.tenant_id') as tenant, now() = statement_timestamp() as open`,
      );
      return rows[0]!;
    });
    // Nothing kept; the statement ran (an aborted transaction would refuse it) in a transaction of
    // its own, opened before it: now() is that transaction's start, not the statement's.
    expect(after).toMatchObject({ n: 0, role: "gatehouse_app", tenant: tenantId, open: false });
    // Outside a transaction the connection is back to the owner role, no tenant.
    const [outside] = await db.statement<{ role: string; tenant: string | null }>(
      sql`select current_user as role, current_setting('app.tenant_id', true) as tenant`,
    );
    expect(outside!.role).not.toBe("gatehouse_app");
    expect(outside!.tenant ?? "").toBe("");
  });

  it("a tenant id that is not a UUID is refused before anything is sent", async () => {
    sent.length = 0;
    await expect(db.withTenant("x', true); drop table environments; --", async () => 1)).rejects.toThrow(/not a UUID/);
    expect(sent).toEqual([]);
  });
});
