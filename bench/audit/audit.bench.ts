// bench/audit: ingesting a 10,000-violation audit report — storing it and diffing it against the
// previous one into the violation history (what POST /agent/v1/audit-report does in its
// transaction) — against a raw multi-row INSERT of the same 10,000 rows, on real PostgreSQL
// through the Neon driver. Consecutive reports differ by a churn: 0% (the same violations seen
// again, the usual case between two audits a minute apart), 1% and 10% (a rollout replacing pods:
// that many violations resolve and as many open). Prints medians of RUNS and the ratio
// raw/ingest at 10%. Targets: ingest <= 300 ms, ratio >= 0.3.
// Run: npm run bench:audit (PostgreSQL must be running).
import { Pool } from "@neondatabase/serverless";
import { openDatabase } from "../../src/db/client.ts";
import { environments, tenants, webhookEndpoints } from "../../src/db/schema.ts";
import type { AuditReport } from "../../src/protocol/agent.ts";
import { violationFingerprint } from "../../src/services/violation-fingerprints.ts";
import { ingestAuditReport, storeAuditReport, type IngestResult } from "../../src/services/violations.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { syntheticReport } from "./report.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CONSTRAINTS = 10;
const PER_CONSTRAINT = 1000;

const pg = await acquirePostgres();
const database = await pg.createDatabase();
const db = await openDatabase({ url: database.url, wsProxy: pg.proxy });
const raw = new Pool({ connectionString: database.url, max: 1 });

const tenantId = await db.asSystem(async (tx) => (await tx.insert(tenants).values({ slug: "bench", name: "bench" }).returning())[0]!.id);
const newEnv = (name: string) => db.withTenant(tenantId, async (tx) => (await tx.insert(environments).values({ tenantId, name }).returning())[0]!.id);

/** 10,000 Pod violations; a pod whose index is a multiple of `every` is replaced in `generation`. */
const report = (generation: number, every: number, collectedAt: Date) =>
  syntheticReport({ constraints: CONSTRAINTS, perConstraint: PER_CONSTRAINT, kind: "Pod" }, generation, every, collectedAt);

interface Timing {
  total: number;
  store: number;
  diff: number;
  result: IngestResult;
}
async function ingest(environmentId: string, r: AuditReport): Promise<Timing> {
  const start = performance.now();
  let store = 0;
  let diff = 0;
  let result: IngestResult | undefined;
  await db.withTenant(tenantId, async (tx) => {
    const a = performance.now();
    await storeAuditReport(tx, { tenantId, environmentId, report: r, receivedAt: new Date() });
    const b = performance.now();
    result = await ingestAuditReport(tx, { tenantId, environmentId, report: r, now: new Date() });
    store = b - a;
    diff = performance.now() - b;
  });
  return { total: performance.now() - start, store, diff, result: result! };
}

/**
 * The same 10,000 rows as plain multi-row INSERT ... VALUES statements (3,000 rows, 51,000
 * parameters each: PostgreSQL allows 65,535), straight through the Neon driver — no query
 * builder — in one RLS-scoped transaction like the ingest's.
 */
async function rawInsert(environmentId: string, r: AuditReport): Promise<number> {
  const at = new Date(r.collectedAt).toISOString();
  const rows = r.constraints.flatMap((k) =>
    k.violations.map((v) => [
      tenantId,
      environmentId,
      violationFingerprint(environmentId, k.kind, k.name, v),
      k.kind,
      k.name,
      k.control,
      v.enforcementAction,
      v.group,
      v.version,
      v.kind,
      v.namespace,
      v.name,
      v.message,
      "open",
      at,
      at,
      at,
    ]),
  );
  const columns =
    "tenant_id, environment_id, fingerprint, constraint_kind, constraint_name, control, enforcement_action, resource_group, resource_version, resource_kind, namespace, name, message, state, first_seen_at, opened_at, last_seen_at";
  const client = await raw.connect();
  const start = performance.now();
  try {
    await client.query("begin");
    await client.query("select set_config('role', 'gatehouse_app', true), set_config('app.tenant_id', $1, true)", [tenantId]);
    for (let i = 0; i < rows.length; i += 3000) {
      const chunk = rows.slice(i, i + 3000);
      const values = chunk.map((row, j) => `(${row.map((_, c) => `$${j * row.length + c + 1}`).join(", ")})`).join(", ");
      await client.query(`insert into violations (${columns}) values ${values}`, chunk.flat());
    }
    await client.query("commit");
  } finally {
    client.release();
  }
  return performance.now() - start;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;
const CHURN = [
  ["0%", 0],
  ["1%", 100],
  ["10%", 10],
] as const;
const runs = new Map<string, Timing[]>([["first", []], ...CHURN.map(([name]) => [name, []] as [string, Timing[]]), ["10% + webhook", []]]);
let t = Date.now();
const next = () => new Date((t += 1000));

// Each run: a new environment's first report (all 10,000 opened), then one report per churn.
for (let run = 0; run < RUNS; run++) {
  const env = await newEnv(`ingest-${run}`);
  runs.get("first")!.push(await ingest(env, report(0, 0, next())));
  for (const [name, every] of CHURN) runs.get(name)!.push(await ingest(env, report(run * 10 + every, every, next())));
}
// The same 10% churn with one webhook endpoint subscribed: every opened and resolved violation
// also queues a signed delivery with its payload.
await db.withTenant(tenantId, (tx) =>
  tx.insert(webhookEndpoints).values({
    tenantId,
    url: "https://hooks.example.com/gatehouse",
    secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    events: ["violation.opened", "violation.resolved"],
    createdBy: "bench",
  }),
);
for (let run = 0; run < RUNS; run++) {
  const env = await newEnv(`webhook-${run}`);
  await ingest(env, report(0, 0, next()));
  runs.get("10% + webhook")!.push(await ingest(env, report(1, 10, next())));
}
// The same endpoint in digest mode (the default for new endpoints): a first report of 10,000
// queues one violations.changed for it, not 10,000 deliveries.
await db.withTenant(tenantId, (tx) => tx.update(webhookEndpoints).set({ deliveryMode: "digest" }));
runs.set("first + digest webhook", []);
for (let run = 0; run < RUNS; run++) runs.get("first + digest webhook")!.push(await ingest(await newEnv(`digest-${run}`), report(0, 0, next())));
const rawMs: number[] = [];
for (let run = 0; run < RUNS; run++) rawMs.push(await rawInsert(await newEnv(`raw-${run}`), report(1, 10, new Date())));

console.log(`${CONSTRAINTS * PER_CONSTRAINT}-violation reports, ${RUNS} runs (median), PostgreSQL via the Neon driver`);
console.log("report                      total    store     diff   opened resolved queued   runs");
for (const [name, xs] of runs) {
  const r = xs[0]!.result;
  console.log(
    `${name.padEnd(24)} ${ms(median(xs.map((x) => x.total))).padStart(8)} ${ms(median(xs.map((x) => x.store))).padStart(8)} ${ms(median(xs.map((x) => x.diff))).padStart(8)} ${String(r.opened).padStart(8)} ${String(r.resolved).padStart(8)} ${String(r.queued).padStart(6)}   [${xs.map((x) => ms(x.total)).join(", ")}]`,
  );
}
const ingest10 = median(runs.get("10%")!.map((x) => x.total));
console.log(
  `target: ingest (store + diff) <= 300 ms; deliveries per digest endpoint for a 10,000-violation report: ${runs.get("first + digest webhook")![0]!.result.queued} (target <= 10)`,
);
console.log(`raw multi-row INSERT of the same 10,000 rows: ${ms(median(rawMs))}   [${rawMs.map(ms).join(", ")}]`);
console.log(
  `ratio raw / ingest at 10% churn: ${(median(rawMs) / ingest10).toFixed(2)}; raw / first report (all 10,000 inserted by both): ${(median(rawMs) / median(runs.get("first")!.map((x) => x.total))).toFixed(2)} (target >= 0.3)`,
);

await raw.end();
await db.close();
await database.drop();
await pg.release();
