// Audit reports applied after the response: POST /agent/v1/audit-report with `Prefer:
// respond-async` (RFC 7240) stores the report and answers 202; the diff into the violation
// history runs here, afterwards. Under bench:fleet the synchronous diff made the route's p99
// ~0.25 s (its transactions queue for the ingest slots and the pool); the agent does not need
// to wait for it, only for the report to be safe.
//
// Nothing is lost when the work after the 202 does not happen (the process stops, more reports
// wait than AUDIT_INGEST_QUEUE, a database error): the report stays stored and unfinished
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
import { inIngestSlot, type IngestArgs, type IngestConfig, ingestStored } from "./audit-ingest.ts";

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

// The reports this process is applying (per database: tests run many), skipped by its own sweep.
const applying = new WeakMap<Database, Set<string>>();
const keyOf = (a: Pick<IngestArgs, "environmentId" | "report">) => `${a.environmentId}@${a.report.collectedAt}`;

/**
 * Applies a stored report (storeForLater's) in an ingest slot. Never throws: what fails is
 * logged and left for resumeUnfinished, as is a report for which AUDIT_INGEST_QUEUE reports wait
 * already (so waiting reports never hold more memory than that queue).
 */
export async function applyLater(db: Database, args: IngestArgs, config: IngestConfig | undefined, log: Logger): Promise<void> {
  const set = applying.get(db) ?? new Set<string>();
  applying.set(db, set);
  const key = keyOf(args);
  set.add(key);
  try {
    const outcome = await inIngestSlot(db, config, () => ingestStored(db, args, config));
    log.debug({ environmentId: args.environmentId, collectedAt: args.report.collectedAt, outcome: outcome.kind }, "audit report applied");
  } catch (err) {
    const queued = err instanceof ProblemError && err.status === 503;
    log[queued ? "info" : "error"](
      { err: queued ? undefined : err, environmentId: args.environmentId, collectedAt: args.report.collectedAt },
      queued ? "audit report left for the resume pass: too many ingests wait" : "applying an audit report failed; the resume pass retries it",
    );
  } finally {
    set.delete(key);
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
  const skip = applying.get(db);
  let done = 0;
  for (const r of rows as { tenant_id: string; environment_id: string; collected_at: string | Date; received_at: string | Date }[]) {
    const collectedAt = new Date(r.collected_at).toISOString();
    if (skip?.has(`${r.environment_id}@${collectedAt}`)) continue;
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
