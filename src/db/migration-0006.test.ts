// migrations/0006 changes stored data, not only the schema: the latest audit report (jsonb) becomes
// bytea, and every violation's fingerprint is recomputed in the API's new form. This applies the
// migrations up to 0005 to an empty PGlite, writes rows the old way, applies the rest, and checks
// that nothing was lost and that an ingest still recognises the old violations.
import { PGlite } from "@electric-sql/pglite";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { expect, it } from "vitest";
import { violationFingerprint } from "../services/violation-fingerprints.ts";
import { ingestAuditReport, storeAuditReport } from "../services/violations.ts";
import { MIGRATIONS_FOLDER, migrationsBefore } from "../../test/harness/migrations-before.ts";
import { fromPglite } from "./client.ts";
import { gunzipJson } from "./gzip-json.ts";

it("0006 keeps the stored report readable and re-keys violations so the next report matches them", async () => {
  const client = new PGlite();
  const d = drizzle({ client });
  await migrate(d, { migrationsFolder: migrationsBefore("0006_audit_report_history") });

  const report = {
    collectedAt: "2026-11-01T10:00:00.000Z",
    constraints: [
      {
        kind: "GatehousePrivilegedContainers",
        name: "privileged-containers",
        control: "privileged-containers",
        enforcementAction: "deny",
        auditTimestamp: "2026-11-01T10:00:00.000Z",
        totalViolations: 1,
        truncated: false,
        violations: [
          { group: "", version: "v1", kind: "Pod", namespace: "team-a", name: "web-1", enforcementAction: "deny", message: 'pod team-a/web-1: "privileged" é' },
        ],
      },
    ],
  };
  const v = report.constraints[0]!.violations[0]!;
  const [t] = (await client.query<{ id: string }>("insert into tenants (slug, name) values ('acme', 'Acme') returning id")).rows;
  const [e] = (await client.query<{ id: string }>("insert into environments (tenant_id, name) values ($1, 'prod') returning id", [t!.id])).rows;
  await client.query("select set_config('app.system', 'on', false)");
  await client.query(
    "insert into audit_reports (environment_id, tenant_id, report, total_violations, received_at, collected_at) values ($1, $2, $3::jsonb, 1, now(), $4)",
    [e!.id, t!.id, JSON.stringify(report), report.collectedAt],
  );
  // The fingerprint as the API computed it before 0006 (in SQL, from jsonb).
  await client.query(
    `insert into violations (tenant_id, environment_id, fingerprint, constraint_kind, constraint_name, control, enforcement_action, resource_group, resource_version, resource_kind, namespace, name, message, state, first_seen_at, opened_at, last_seen_at)
     values ($1, $2::uuid, encode(sha256(convert_to(jsonb_build_array($11::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, $9::text)::text, 'UTF8')), 'hex'),
             $3, $4, 'privileged-containers', 'deny', $5, 'v1', $6, $7, $8, $9, 'open', $10, $10, $10)`,
    [t!.id, e!.id, "GatehousePrivilegedContainers", "privileged-containers", v.group, v.kind, v.namespace, v.name, v.message, report.collectedAt, e!.id],
  );
  const [old] = (await client.query<{ id: string; fingerprint: string }>("select id, fingerprint from violations")).rows;
  await client.query("select set_config('app.system', '', false)");

  await migrate(d, { migrationsFolder: MIGRATIONS_FOLDER });
  const db = await fromPglite(client);
  try {
    const rows = await db.asSystem((tx) =>
      tx.execute<{ report: Uint8Array; id: string; fingerprint: string }>(sql`select r.report, v.id, v.fingerprint from audit_reports r, violations v`),
    );
    expect(gunzipJson(rows.rows[0]!.report)).toEqual(report);
    const fp = violationFingerprint(e!.id, "GatehousePrivilegedContainers", "privileged-containers", v);
    expect(rows.rows[0]).toMatchObject({ id: old!.id, fingerprint: fp });
    expect(fp).not.toBe(old!.fingerprint);

    // The next report lists the same violation: it is the same row, still open, nothing opened.
    const next = { ...report, collectedAt: "2026-11-01T10:01:00.000Z" };
    const result = await db.withTenant(t!.id, async (tx) => {
      await storeAuditReport(tx, { tenantId: t!.id, environmentId: e!.id, report: next, receivedAt: new Date() });
      return ingestAuditReport(tx, { tenantId: t!.id, environmentId: e!.id, report: next, now: new Date() });
    });
    expect(result).toEqual({ seen: 1, opened: 0, resolved: 0, queued: 0 });
  } finally {
    await db.close();
  }
});
