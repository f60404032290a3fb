// bench/audit: ingesting a 10,000-violation audit report — storing it and diffing it against the
// previous one into the violation history (what POST /agent/v1/audit-report does in its
// transaction) — against a raw multi-row INSERT of the same 10,000 rows, on real PostgreSQL
// through the Neon driver. Prints both (median of RUNS) and the ratio raw/ingest.
// Targets: ingest <= 300 ms, ratio >= 0.3. Run: npm run bench:audit (PostgreSQL must be running).
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { openDatabase } from "../../src/db/client.ts";
import { auditReports, environments, tenants, violations } from "../../src/db/schema.ts";
import type { AuditReport } from "../../src/protocol/agent.ts";
import { ingestAuditReport } from "../../src/services/violations.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONSTRAINTS = 10;
const PER_CONSTRAINT = 1000;

const pg = await acquirePostgres();
const database = await pg.createDatabase();
const db = await openDatabase({ url: database.url, wsProxy: pg.proxy });

const tenantId = await db.asSystem(async (tx) => (await tx.insert(tenants).values({ slug: "bench", name: "bench" }).returning())[0]!.id);
const newEnv = (name: string) => db.withTenant(tenantId, async (tx) => (await tx.insert(environments).values({ tenantId, name }).returning())[0]!.id);

/** 10,000 violations; `generation` replaces 10% of them (so a diff opens and resolves 1,000). */
function report(generation: number, collectedAt: Date): AuditReport {
  return {
    collectedAt: collectedAt.toISOString(),
    constraints: Array.from({ length: CONSTRAINTS }, (_, c) => ({
      kind: `GatehouseControl${c}`,
      name: `control-${c}`,
      control: `control-${c}`,
      enforcementAction: "deny",
      auditTimestamp: collectedAt.toISOString(),
      totalViolations: PER_CONSTRAINT,
      truncated: false,
      violations: Array.from({ length: PER_CONSTRAINT }, (_, i) => {
        const pod = i % 10 === 0 ? `pod-${c}-${i}-g${generation}` : `pod-${c}-${i}`;
        return {
          group: "", version: "v1", kind: "Pod", namespace: `team-${i % 50}`, name: pod, enforcementAction: "deny",
          message: `pod team-${i % 50}/${pod}: container "app" (containers[0], image registry.example.com/team/app:1.4.2): securityContext.privileged is true; privileged containers are not allowed.`,
        };
      }),
    })),
  };
}

const storeMs: number[] = [];
const diffMs: number[] = [];
async function ingest(environmentId: string, r: AuditReport, split = false): Promise<number> {
  const start = performance.now();
  await db.withTenant(tenantId, async (tx) => {
    const values = { report: r, totalViolations: CONSTRAINTS * PER_CONSTRAINT, receivedAt: new Date(), collectedAt: new Date(r.collectedAt) };
    const a = performance.now();
    await tx.insert(auditReports).values({ environmentId, tenantId, ...values }).onConflictDoUpdate({ target: auditReports.environmentId, set: values });
    const b = performance.now();
    await ingestAuditReport(tx, { tenantId, environmentId, report: r, now: new Date() });
    if (split) {
      storeMs.push(b - a);
      diffMs.push(performance.now() - b);
    }
  });
  return performance.now() - start;
}

async function rawInsert(environmentId: string, r: AuditReport): Promise<number> {
  const at = new Date(r.collectedAt);
  const rows = r.constraints.flatMap((k) =>
    k.violations.map((v) => ({
      tenantId, environmentId,
      fingerprint: createHash("sha256").update(JSON.stringify([environmentId, k.kind, k.name, v.group, v.kind, v.namespace, v.name, v.message])).digest("hex"),
      constraintKind: k.kind, constraintName: k.name, control: k.control, enforcementAction: v.enforcementAction,
      resourceGroup: v.group, resourceVersion: v.version, resourceKind: v.kind, namespace: v.namespace, name: v.name, message: v.message,
      state: "open" as const, firstSeenAt: at, openedAt: at, lastSeenAt: at,
    })),
  );
  const start = performance.now();
  await db.withTenant(tenantId, async (tx) => {
    // 17 parameters a row; PostgreSQL allows 65,535 per statement.
    for (let i = 0; i < rows.length; i += 3000) await tx.insert(violations).values(rows.slice(i, i + 3000));
  });
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ingestMs: number[] = [];
const firstMs: number[] = [];
const rawMs: number[] = [];
const t0 = Date.now();
for (let run = 0; run < RUNS; run++) {
  const env = await newEnv(`ingest-${run}`);
  // The previous report (all 10,000 new: the first-report case), then the measured diff.
  firstMs.push(await ingest(env, report(0, new Date(t0 + run * 1000))));
  ingestMs.push(await ingest(env, report(1, new Date(t0 + run * 1000 + 500)), true));
  rawMs.push(await rawInsert(await newEnv(`raw-${run}`), report(1, new Date(t0))));
}
const check = await db.withTenant(tenantId, async (tx) => (await tx.execute<{ open: number; resolved: number }>(sql`select count(*) filter (where state = 'open')::int as open, count(*) filter (where state = 'resolved')::int as resolved from violations v join environments e on e.id = v.environment_id where e.name = 'ingest-0'`)).rows[0]!);
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(`${CONSTRAINTS * PER_CONSTRAINT} violations, ${RUNS} runs (median), PostgreSQL via the Neon driver`);
console.log(`first report (10,000 opened):             ${ms(median(firstMs))}   [${firstMs.map(ms).join(", ")}]`);
console.log(`ingest: store + diff (1,000 opened, 1,000 resolved, 9,000 seen): ${ms(median(ingestMs))}   [${ingestMs.map(ms).join(", ")}]  (target <= 300 ms)`);
console.log(`  of which: storing the report (3 MB jsonb) ${ms(median(storeMs))}, the diff ${ms(median(diffMs))}`);
console.log(`raw multi-row INSERT of the same 10,000 rows: ${ms(median(rawMs))}   [${rawMs.map(ms).join(", ")}]`);
console.log(`ratio raw/ingest: ${(median(rawMs) / median(ingestMs)).toFixed(2)} (target >= 0.3)`);
console.log(`check: after the diff ${check.open} open, ${check.resolved} resolved (expected 10000 / 1000)`);

await db.close();
await database.drop();
await pg.release();
