// Row-level security is the second lock: even a query that forgets `where tenant_id = ...`
// must not see or write another tenant's rows. Proven on PGlite and on real PostgreSQL (via the
// Neon driver), since PGlite runs as a superuser and the server as an ordinary owner role.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/harness/backends.ts";
import { gzipJson } from "./gzip-json.ts";
import { PG, pgErrorCode, type Database } from "./client.ts";
import { agentStatus, auditLog, auditReports, environments, settingsRevisions, TENANT_TABLES, tenants } from "./schema.ts";

/** "<SQLSTATE> <driver message>" of a rejection (drizzle wraps the driver error as `cause`). */
async function failure(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => "no error",
    (err: unknown) => {
      const cause = (err as { cause?: Error }).cause ?? (err as Error);
      return `${pgErrorCode(err)} ${cause.message}`;
    },
  );
}

describe.each(backends())("row-level security on $name", (backend) => {
  let db: Database;
  let a = "";
  let b = "";
  let bProd = "";

  beforeAll(async () => {
    db = await backend.open();
    await db.asSystem(async (tx) => {
      const [ta, tb] = await tx
        .insert(tenants)
        .values([
          { slug: "acme", name: "Acme" },
          { slug: "beta", name: "Beta" },
        ])
        .returning();
      a = ta!.id;
      b = tb!.id;
      const envs = await tx
        .insert(environments)
        .values([
          { tenantId: a, name: "prod" },
          { tenantId: a, name: "staging" },
          { tenantId: b, name: "prod" },
        ])
        .returning();
      bProd = envs[2]!.id;
    });
  });
  afterAll(() => backend.cleanup());

  it("an unscoped select inside withTenant(A) returns only A's environments", async () => {
    const rows = await db.withTenant(a, (tx) => tx.select().from(environments));
    expect(rows.map((r) => r.name).sort()).toEqual(["prod", "staging"]);
    expect(rows.every((r) => r.tenantId === a)).toBe(true);

    const raw = await db.withTenant(a, (tx) => tx.execute(sql`select * from environments`));
    expect(raw.rows).toHaveLength(2);
    const tenantRows = await db.withTenant(a, (tx) => tx.select().from(tenants));
    expect(tenantRows.map((t) => t.slug)).toEqual(["acme"]);
  });

  it("an insert with B's tenant_id inside withTenant(A) is refused", async () => {
    const code = await failure(db.withTenant(a, (tx) => tx.insert(environments).values({ tenantId: b, name: "sneaky" })));
    expect(code).toMatch(new RegExp(`^${PG.insufficientPrivilege} .*row-level security`));
    const names = await db.asSystem((tx) => tx.select().from(environments));
    expect(names.map((r) => r.name)).not.toContain("sneaky");
  });

  it("unscoped updates and deletes inside withTenant(A) leave B's rows alone", async () => {
    await db.withTenant(a, async (tx) => {
      await tx.update(environments).set({ description: "touched" });
      await tx.delete(environments).where(sql`name = 'nope'`);
    });
    const all = await db.asSystem((tx) => tx.select().from(environments));
    for (const env of all) expect(env.description).toBe(env.tenantId === a ? "touched" : "");
    // Moving a row into another tenant fails the policy's WITH CHECK.
    expect(await failure(db.withTenant(a, (tx) => tx.update(environments).set({ tenantId: b })))).toMatch(
      new RegExp(`^${PG.insufficientPrivilege} .*row-level security`),
    );
  });

  it("a row of A cannot reference B's environment (composite foreign key)", async () => {
    const code = await failure(
      db.withTenant(a, (tx) =>
        tx.insert(settingsRevisions).values({
          tenantId: a,
          environmentId: bProd,
          revision: 1,
          document: {},
          author: "mallory",
        }),
      ),
    );
    expect(code).toMatch(new RegExp(`^${PG.foreignKeyViolation} `));
  });

  it("every tenant table is under FORCE row-level security with both policies", async () => {
    const { rows } = await db.asSystem((tx) =>
      tx.execute<{ relname: string; force: boolean; policies: string }>(
        sql`select c.relname, c.relforcerowsecurity as force,
                   (select string_agg(p.policyname, ',' order by p.policyname) from pg_policies p where p.tablename = c.relname) as policies
            from pg_class c where c.relname = any(${sql.raw(`array[${["tenants", ...TENANT_TABLES].map((t) => `'${t}'`).join(",")}]`)}) and c.relkind = 'r'`,
      ),
    );
    expect(rows.map((r) => r.relname).sort()).toEqual(["tenants", ...TENANT_TABLES].sort());
    for (const r of rows) expect([r.relname, r.force, r.policies]).toEqual([r.relname, true, "system_access,tenant_isolation"]);
  });

  it("the agent protocol's tables: an unscoped select sees only A's rows, and A cannot write B's", async () => {
    const [aProd] = await db.withTenant(a, (tx) => tx.select().from(environments).where(sql`name = 'prod'`));
    const report = {
      agentVersion: "0.1.0",
      kubernetesVersion: null,
      gatekeeper: { installed: true, version: null },
      appliedRevision: null,
      desiredRevision: null,
      lastSuccessfulSyncAt: null,
      error: null,
      objects: [],
      templates: [],
    };
    const now = new Date();
    await db.asSystem(async (tx) => {
      for (const [tenantId, environmentId] of [
        [a, aProd!.id],
        [b, bProd],
      ] as const) {
        await tx.insert(agentStatus).values({ tenantId, environmentId, report, agentVersion: "0.1.0", lastSeenAt: now, credentialId: randomUUID() });
        await tx.insert(auditReports).values({
          tenantId,
          environmentId,
          report: gzipJson({ collectedAt: now.toISOString(), constraints: [] }),
          totalViolations: 0,
          receivedAt: now,
          collectedAt: now,
        });
      }
    });
    const seen = await db.withTenant(a, async (tx) => [await tx.select().from(agentStatus), await tx.select().from(auditReports)]);
    for (const rows of seen) expect(rows.map((r) => r.environmentId)).toEqual([aProd!.id]);
    expect(await failure(db.withTenant(a, (tx) => tx.update(agentStatus).set({ agentVersion: "x" }).where(sql`environment_id = ${bProd}`).returning()))).toBe(
      "no error",
    );
    const [bRow] = await db.asSystem((tx) => tx.select().from(agentStatus).where(sql`environment_id = ${bProd}`));
    expect(bRow!.agentVersion).toBe("0.1.0");
    expect(
      await failure(
        db.withTenant(a, (tx) =>
          tx.insert(auditReports).values({
            tenantId: b,
            environmentId: randomUUID(),
            report: gzipJson({ collectedAt: now.toISOString(), constraints: [] }),
            totalViolations: 0,
            receivedAt: now,
            collectedAt: now,
          }),
        ),
      ),
    ).toMatch(new RegExp(`^${PG.insufficientPrivilege} .*row-level security`));
  });

  it("setting app.system inside withTenant does not lift the policy", async () => {
    const rows = await db.withTenant(a, async (tx) => {
      await tx.execute(sql`select set_config('app.system', 'on', true)`);
      return tx.select().from(environments);
    });
    expect(rows.every((r) => r.tenantId === a)).toBe(true);
  });

  it("asSystem sees every tenant", async () => {
    const rows = await db.asSystem((tx) => tx.select().from(environments));
    expect(new Set(rows.map((r) => r.tenantId))).toEqual(new Set([a, b]));
    expect(await db.asSystem((tx) => tx.select().from(tenants))).toHaveLength(2);
  });

  it("withTenant for a tenant that has no rows sees nothing", async () => {
    const rows = await db.withTenant(randomUUID(), (tx) => tx.select().from(environments));
    expect(rows).toEqual([]);
  });

  it("withTenant refuses an id that is not a UUID", async () => {
    await expect(db.withTenant("acme", async () => 1)).rejects.toThrow(/not a UUID/);
  });

  // On the server the owner is an ordinary role and FORCE row level security hides everything
  // from it; PGlite's only user is a superuser, which RLS never binds: that is why every tenant
  // query runs under withTenant's SET LOCAL ROLE gatehouse_app, on both.
  it(`the connecting role outside asSystem: ${backend.name === "postgres" ? "sees nothing (FORCE RLS)" : "a superuser on PGlite, sees all"}`, async () => {
    const rows = await db.asSystem(async (tx) => {
      await tx.execute(sql`select set_config('app.system', 'off', true)`);
      return tx.select().from(environments);
    });
    expect(rows).toHaveLength(backend.name === "postgres" ? 0 : 3);
  });

  it("20 concurrent withTenant transactions all succeed, each scoped", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => {
        const tenant = i % 2 === 0 ? a : b;
        return db.withTenant(tenant, async (tx) => {
          await tx.insert(auditLog).values({
            tenantId: tenant,
            actor: `worker-${i}`,
            action: "test.concurrent",
            targetType: "environment",
          });
          const envs = await tx.select().from(environments);
          return { tenant, envs };
        });
      }),
    );
    for (const { tenant, envs } of results) {
      expect(envs.length).toBe(tenant === a ? 2 : 1);
      expect(envs.every((e) => e.tenantId === tenant)).toBe(true);
    }
    const logA = await db.withTenant(a, (tx) => tx.select().from(auditLog));
    expect(logA).toHaveLength(10);
    expect(logA.every((r) => r.tenantId === a)).toBe(true);
  });
});
