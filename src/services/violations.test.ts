// The violation-history service below the routes: the API's fingerprint is the one PostgreSQL
// computes (migration 0006 re-keys stored rows with it), and an ingest refuses a report that is
// not the stored one without changing anything.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport } from "../../test/harness/agent-api.ts";
import { backends } from "../../test/harness/backends.ts";
import type { Database } from "../db/client.ts";
import { environments, tenants } from "../db/schema.ts";
import { violationFingerprint } from "./violation-fingerprints.ts";
import { ingestAuditReport, storeAuditReport } from "./violations.ts";

const TRICKY = [
  'quote " and backslash \\',
  "tab\tnewline\nreturn\r",
  "\u0001\u001f\u007f controls",
  "é ü ß",
  "𝄞 emoji 🚀",
  "\u2028\u2029 separators",
  "</script>",
  "\b\f",
  "",
  "a".repeat(300),
];

describe.each(backends())("violations service ($name)", (backend) => {
  let db: Database;
  let tenantId: string;
  let environmentId: string;
  beforeAll(async () => {
    db = await backend.open();
    tenantId = await db.asSystem(async (tx) => (await tx.insert(tenants).values({ slug: "vs", name: "vs" }).returning())[0]!.id);
    environmentId = await db.withTenant(tenantId, async (tx) => (await tx.insert(environments).values({ tenantId, name: "prod" }).returning())[0]!.id);
  });
  afterAll(() => backend.cleanup());

  it.each(TRICKY)("the fingerprint of %j is PostgreSQL's (array_to_json, as migration 0006 computes it)", async (s) => {
    const v = { group: s, kind: `Pod${s}`, namespace: s, name: `n${s}`, message: s };
    const { rows } = await db.withTenant(tenantId, (tx) =>
      tx.execute<{ fp: string }>(
        sql`select encode(sha256(convert_to(array_to_json(array[${environmentId}::uuid::text, ${`K${s}`}::text, ${s}::text, ${v.group}::text, ${v.kind}::text, ${v.namespace}::text, ${v.name}::text, ${v.message}::text])::text, 'UTF8')), 'hex') as fp`,
      ),
    );
    expect(violationFingerprint(environmentId, `K${s}`, s, v)).toBe(rows[0]!.fp);
  });

  it("fingerprints differ when any part does, even where a naive join would collide", () => {
    const v = { group: "", kind: "Pod", namespace: "a", name: "b", message: "m" };
    const base = violationFingerprint(environmentId, "K", "c", v);
    expect(violationFingerprint(environmentId, "K", "c", { ...v, namespace: 'a","b', name: "" })).not.toBe(
      violationFingerprint(environmentId, "K", "c", { ...v, namespace: "a", name: '","b' }),
    );
    for (const change of [{ group: "apps" }, { kind: "Deployment" }, { namespace: "x" }, { name: "x" }, { message: "x" }]) {
      expect(violationFingerprint(environmentId, "K", "c", { ...v, ...change })).not.toBe(base);
    }
    expect(violationFingerprint(environmentId.toUpperCase(), "K", "c", v)).toBe(base);
  });

  it("ingesting a report that is not the stored one throws and changes nothing", async () => {
    const stored = auditReport({ collectedAt: "2026-11-01T10:00:00.000Z" });
    const other = { ...stored, collectedAt: "2026-11-01T10:05:00.000Z" };
    const rows = () =>
      db.withTenant(tenantId, async (tx) => [
        (await tx.execute(sql`select * from violations order by id`)).rows,
        (await tx.execute(sql`select * from violation_events order by id`)).rows,
        (await tx.execute(sql`select * from constraint_audits order by constraint_kind`)).rows,
      ]);
    await db.withTenant(tenantId, async (tx) => {
      await storeAuditReport(tx, { tenantId, environmentId, report: stored, receivedAt: new Date() });
      await ingestAuditReport(tx, { tenantId, environmentId, report: stored, now: new Date() });
    });
    const before = await rows();
    expect(before[0]!.length).toBe(5);
    await expect(
      db.withTenant(tenantId, (tx) => ingestAuditReport(tx, { tenantId, environmentId, report: { ...other, constraints: [] }, now: new Date() })),
    ).rejects.toThrow(/no stored report/);
    expect(await rows()).toEqual(before);
  });
});
