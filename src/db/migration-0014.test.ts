// migrations/0014 repairs history an older API let a future-dated audit report write (issue 13,
// item 2): with the report at 9999-12-31 stored and ingested, its times outranked every later
// report and nothing resolved again. This migrates an empty PGlite up to just before 0014, writes
// the rows the old route's store + ingest made for such a report, applies 0014, and checks that the
// times are back at the present and that the next reports resolve and reopen as usual.
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { expect, it } from "vitest";
import { auditReport, constraintAudit } from "../../test/harness/agent-api.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { violationFingerprint } from "../services/violation-fingerprints.ts";
import { ingestAuditReport, storeAuditReport } from "../services/violations.ts";
import { gzipJson } from "./gzip-json.ts";
import { MIGRATIONS_FOLDER, migrationsBefore } from "../../test/harness/migrations-before.ts";
import { fromPglite } from "./client.ts";

it("0014 brings future-dated report, audit and violation times back, so the next reports resolve and reopen", async () => {
  const client = new PGlite();
  const d = drizzle({ client });
  await migrate(d, { migrationsFolder: migrationsBefore("0014_future_audit_times") });
  const [t] = (await client.query<{ id: string }>("insert into tenants (slug, name) values ('acme', 'Acme') returning id")).rows;
  const [e] = (await client.query<{ id: string }>("insert into environments (tenant_id, name) values ($1, 'prod') returning id", [t!.id])).rows;
  const db = await fromPglite(client);
  const ids = { tenantId: t!.id, environmentId: e!.id };
  const take = (report: AuditReport, receivedAt: Date) =>
    db.withTenant(t!.id, async (tx) =>
      (await storeAuditReport(tx, { ...ids, report, receivedAt })) ? ingestAuditReport(tx, { ...ids, report, now: receivedAt }) : null,
    );
  try {
    // What the old route wrote for a report at 9999-12-31 listing one violation (as rows: today's
    // store + ingest needs columns later migrations add).
    const far = "9999-12-31T23:59:59.000Z";
    const c = constraintAudit({}, 1);
    const v = c.violations[0]!;
    await client.query(
      "insert into audit_reports (environment_id, tenant_id, report, total_violations, received_at, collected_at) values ($1, $2, $3, 1, now() - interval '1 hour', $4)",
      [e!.id, t!.id, gzipJson(auditReport({ collectedAt: far, constraints: [c] })), far],
    );
    await client.query("insert into constraint_audits (environment_id, tenant_id, constraint_kind, constraint_name, complete_at) values ($1, $2, $3, $4, $5)", [
      e!.id,
      t!.id,
      c.kind,
      c.name,
      far,
    ]);
    const [row] = (
      await client.query<{ id: string }>(
        `insert into violations (tenant_id, environment_id, fingerprint, constraint_kind, constraint_name, control, enforcement_action, resource_group, resource_version,
                               resource_kind, namespace, name, message, state, first_seen_at, opened_at, last_seen_at)
       values ($1, $2, $3, $4, $5, $6, 'deny', $7, $8, $9, $10, $11, $12, 'open', $13, $13, $13) returning id`,
        [
          t!.id,
          e!.id,
          violationFingerprint(e!.id, c.kind, c.name, v),
          c.kind,
          c.name,
          c.control,
          v.group,
          v.version,
          v.kind,
          v.namespace,
          v.name,
          v.message,
          far,
        ],
      )
    ).rows;
    await client.query("insert into violation_events (tenant_id, environment_id, violation_id, type, at) values ($1, $2, $3, 'opened', $4)", [
      t!.id,
      e!.id,
      row!.id,
      far,
    ]);

    await migrate(d, { migrationsFolder: MIGRATIONS_FOLDER });
    const times = await db.asSystem(
      async (tx) =>
        (
          await tx.execute<{ future: number }>(sql`
      select (select count(*) from audit_reports where collected_at > now())
           + (select count(*) from constraint_audits where complete_at > now())
           + (select count(*) from violations where greatest(first_seen_at, opened_at, last_seen_at, coalesce(resolved_at, now())) > now())
           + (select count(*) from violation_events where at > now())
           + (select count(*) from violations where state = 'open' and resolved_at is not null) as future`)
        ).rows[0]!.future,
    );
    expect(Number(times)).toBe(0);

    // The next report no longer lists it: resolved. The one after lists it again: reopened.
    const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
    expect(await take(auditReport({ collectedAt: at(1), constraints: [constraintAudit({}, 0)] }), new Date())).toMatchObject({ resolved: 1 });
    expect(await take(auditReport({ collectedAt: at(2), constraints: [constraintAudit({}, 1)] }), new Date())).toMatchObject({ opened: 1 });
  } finally {
    await db.close();
  }
});
