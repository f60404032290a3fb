// Audit reports applied after the response: POST /agent/v1/audit-report with `Prefer:
// respond-async` (RFC 7240) stores the report and answers 202; the diff into the violation
// history runs here, afterwards. Under bench:fleet the synchronous diff made the route's p99
// ~0.25 s (its transactions queue for the ingest slots and the pool); the agent does not need
// to wait for it, only for the report to be safe.
//
// Nothing is lost when the work after the 202 does not happen (the process stops, a database
// error): the report stays stored and unfinished
// (audit_reports.ingested_at null), and resumeUnfinished, run every RESUME_INTERVAL_MS on Node
// and by the Workers cron, applies it from the stored copy. That copy has no drafts' shadow
// constraints (they are never stored), so a resumed report leaves the drafts' previews as they
// were; the next report moves them.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { ProblemError } from "../app/problem.ts";
import type { Database } from "../db/client.ts";
import { gunzipJson } from "../db/gzip-json.ts";
import { auditReports } from "../db/schema.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { inIngestSlot, type IngestArgs, type IngestConfig, ingestStored, storeForLater } from "./audit-ingest.ts";

/** How often Node looks for unfinished reports to resume. */
export const RESUME_INTERVAL_MS = 30_000;
/**
 * A report unfinished this long after it was received is resumed. An ingest that is still
 * running elsewhere (another instance, a large report) is then applied twice at once, which is
 * safe (every chunk locks the report's row and finds applied what was) and only costs work.
 */
export const RESUME_AFTER_MS = 60_000;
/** Reports resumed per pass, so a backlog is worked off over passes, not all at once. */
const RESUME_BATCH = 50;

// The reports this process is applying (per database: tests run many), with how many ingests of
// each run (a retry may overlap the first attempt), skipped by its own resume pass.
const inFlight = new WeakMap<Database, Map<string, number>>();
const keyOf = (environmentId: string, collectedAt: string) => `${environmentId}@${new Date(collectedAt).toISOString()}`;

/**
 * Runs `ingest` with the report marked as this process's own, so its resume pass leaves it alone:
 * a large report's synchronous ingest can outlast RESUME_AFTER_MS, and two at once only double the work.
 */
export async function whileApplying<T>(db: Database, args: Pick<IngestArgs, "environmentId" | "report">, ingest: () => Promise<T>): Promise<T> {
  const running = inFlight.get(db) ?? new Map<string, number>();
  inFlight.set(db, running);
  const key = keyOf(args.environmentId, args.report.collectedAt);
  running.set(key, (running.get(key) ?? 0) + 1);
  try {
    return await ingest();
  } finally {
    const n = running.get(key)! - 1;
    if (n) running.set(key, n);
    else running.delete(key);
  }
}

/**
 * The respond-async route's ingest: in one ingest slot, as the synchronous route's, it stores the
 * report and then applies it. The returned promise settles once the report is stored (or was
 * refused: a full queue's 503, the store's own error), while the slot stays held for the apply;
 * the caller answers then and hands `done` to work after the response. Holding the slot from the
 * store on keeps the synchronous path's back-pressure: under bench:fleet, stores outside the slots
 * let a burst store reports far faster than they could be applied (6,452 of 10,000 left unfinished).
 */
export function storeThenApply(
  db: Database,
  args: IngestArgs,
  config: IngestConfig | undefined,
  log: Logger,
): { stored: Promise<"pending" | "superseded" | "ingested">; done: Promise<void> } {
  let settle!: { resolve: (s: "pending" | "superseded" | "ingested") => void; reject: (e: unknown) => void };
  const stored = new Promise<"pending" | "superseded" | "ingested">((resolve, reject) => (settle = { resolve, reject }));
  const done = inIngestSlot(db, config, async () => {
    const s = await storeForLater(db, args);
    settle.resolve(s);
    if (s === "pending") await applying(db, args, () => ingestStored(db, args, config), log);
  }).catch(settle.reject); // after the store settled, a no-op (applying logs its own failures)
  return { stored, done };
}

/**
 * Applies a stored report (resumeUnfinished's) in an ingest slot. Never throws: what fails is
 * logged and left for the next pass, as is a report for which AUDIT_INGEST_QUEUE reports wait
 * already.
 */
export async function applyLater(db: Database, args: IngestArgs, config: IngestConfig | undefined, log: Logger): Promise<void> {
  await applying(db, args, () => inIngestSlot(db, config, () => ingestStored(db, args, config)), log);
}

/** Runs `apply` (whileApplying) and logs what it did or why it failed; never throws. */
async function applying(db: Database, args: IngestArgs, apply: () => Promise<{ kind: string }>, log: Logger): Promise<void> {
  const at = { environmentId: args.environmentId, collectedAt: args.report.collectedAt };
  try {
    log.debug({ ...at, outcome: (await whileApplying(db, args, apply)).kind }, "audit report applied");
  } catch (err) {
    const queued = err instanceof ProblemError && err.status === 503;
    log[queued ? "info" : "error"](
      { err: queued ? undefined : err, ...at },
      queued ? "audit report left for the resume pass: too many ingests wait" : "applying an audit report failed; the resume pass retries it",
    );
  }
}

/**
 * One pass: the reports of every tenant received more than RESUME_AFTER_MS ago and not finished,
 * oldest first, at most RESUME_BATCH, applied one after another from their stored copies.
 * Returns how many were applied (or found superseded).
 */
export async function resumeUnfinished(
  db: Database,
  o: { config?: IngestConfig; linkBase: string; now?: () => Date; log: Logger; resumeAfterMs?: number },
): Promise<number> {
  const now = (o.now ?? (() => new Date()))();
  const before = new Date(now.getTime() - (o.resumeAfterMs ?? RESUME_AFTER_MS)).toISOString();
  const { rows } = await db.asSystem((tx) =>
    tx.execute(sql`
      select tenant_id, environment_id, collected_at, received_at from audit_reports
      where ingested_at is null and received_at < ${before}::timestamptz
      order by received_at limit ${RESUME_BATCH}`),
  );
  const skip = inFlight.get(db);
  let done = 0;
  for (const r of rows as { tenant_id: string; environment_id: string; collected_at: string | Date; received_at: string | Date }[]) {
    const collectedAt = new Date(r.collected_at).toISOString();
    if (skip?.has(keyOf(r.environment_id, collectedAt))) continue;
    const [stored] = await db.withTenant(r.tenant_id, (tx) =>
      tx
        .select({ report: auditReports.report })
        .from(auditReports)
        .where(and(eq(auditReports.environmentId, r.environment_id), eq(auditReports.collectedAt, new Date(collectedAt)), isNull(auditReports.ingestedAt))),
    );
    if (!stored) continue; // finished or replaced since the list was read
    const report = gunzipJson(stored.report) as AuditReport; // validated when it was received
    // Its stored collectedAt, to the millisecond, is what every chunk locks by.
    const args: IngestArgs = {
      tenantId: r.tenant_id,
      environmentId: r.environment_id,
      report: { ...report, collectedAt },
      shadows: null,
      receivedAt: new Date(r.received_at),
      linkBase: o.linkBase,
    };
    await applyLater(db, args, o.config, o.log);
    done += 1;
  }
  if (done) o.log.info({ resumed: done }, "resumed unfinished audit reports");
  return done;
}
