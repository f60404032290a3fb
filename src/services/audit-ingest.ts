// An audit report's ingest in bounded chunks, so one large report never holds the database for
// long: on the default store (PGlite, one connection) every other tenant's request waits for
// whatever transaction is running, and a 16 MB report in one transaction held them for seconds.
//
//   1. One transaction stores the report (gzipped off the event loop) as the environment's latest,
//      unfinished (audit_reports.ingested_at null), and counts its open violations. A report
//      small enough for one chunk is diffed and finished in that same transaction, as before.
//   2. Otherwise the fingerprint space is cut into even ranges (fingerprints are sha256, so each
//      holds about `chunkSize` of the listed and of the open violations), and each range is matched
//      in a transaction of its own (violations.ts matchRange): its resolutions, updates and their
//      webhooks; what it lists and does not have open is then opened (openFresh, with events and
//      webhooks) in transactions of at most chunkSize / 2 violations each. Between two of them the
//      connection is free; PGlite's queue is first come first served, so a request that arrived
//      meanwhile runs next. A range whose openings were cut short (a crash) finds them still not
//      open when the retry matches it again, and opens them then.
//   3. A last transaction finishes it (finishReport): constraint audit times, the digests, and
//      ingested_at — the report's completion.
// With Prefer: respond-async the route runs step 1 without the diff (storeForLater) and the rest
// after its 202 (ingestStored, from audit-background.ts), which also resumes reports cut short.
// Every chunk first locks the report's row and checks that it is still this report and unfinished,
// so ingests of one environment never interleave: a newer report arriving mid-way replaces the row
// and the older one's remaining chunks do nothing (the newer one diffs everything anyway); a retry
// of the same report (the agent gets no 204 until the end) re-runs the ranges, which is idempotent
// — what a crashed attempt applied is found already applied — and finishes it once. Until then a
// reader may see some ranges applied and not others: every range is complete in itself, and the
// end state is the report's.
// PGlite runs each statement synchronously on this thread, and a chain of transactions resolves
// in microtasks: without a pause between chunks no other request was even read until the whole
// ingest ended. So every step here hands the event loop its turn (json-slices.ts): between the
// chunks, and every few milliseconds while the report is serialised and its fingerprints hashed.
import { sql } from "drizzle-orm";
import { Buffer } from "node:buffer";
import { createGzip } from "node:zlib";
import pLimit, { type LimitFunction } from "p-limit";
import { slicer, yieldToEventLoop } from "../app/json-slices.ts";
import { ProblemError } from "../app/problem.ts";
import type { Database, Db } from "../db/client.ts";
import { gzipJson } from "../db/gzip-json.ts";
import { executePrepared } from "../db/prepared.ts";
import type { AuditReport, ConstraintAudit } from "../protocol/agent.ts";
import { recordPreviews } from "./draft-preview.ts";
import { type FingerprintRange, fingerprintRanges, inRange, listedViolations, type ListedViolation } from "./violation-fingerprints.ts";
import { diffRange, finishReport, type IngestResult, matchRange, openFresh, storeReport } from "./violations.ts";

export interface IngestConfig {
  /** Violations (listed or open) per chunk transaction. */
  chunkSize: number;
  /** Ingests running at once in this process (inIngestSlot); unset: no limit. */
  concurrency?: number;
  /**
   * Ingests that may wait for one of those slots; one more is refused, 503 with Retry-After (the
   * agent sends it again after that). Unset: no limit.
   */
  queue?: number;
  /**
   * Awaited after each chunk's transaction commits, while the ingest holds nothing (tests use it
   * to prove other requests are served between chunks). `done` of `total` chunks.
   */
  afterChunk?: (done: number, total: number) => Promise<void> | void;
}

export const DEFAULT_INGEST_CONFIG: IngestConfig = { chunkSize: 2000 };

// A bulkhead per database: audit reports arrive in bursts (a fleet's Gatekeeper audits, a rollout)
// and each ingest holds a pooled connection for its transactions. Unbounded, they took every
// connection of the pool under bench:fleet (20 in use, ~400 requests waiting for one) and the
// agents' one-statement status posts queued behind them for seconds. Ingests beyond the limit
// wait here, holding no connection; everything else keeps the rest of the pool.
const slots = new WeakMap<Database, LimitFunction>();

/** Ingests of this process on `db` running and waiting for a slot (both 0 without a limit). */
export function ingestSlots(db: Database): { running: number; waiting: number } {
  const limit = slots.get(db);
  return { running: limit?.activeCount ?? 0, waiting: limit?.pendingCount ?? 0 };
}

// Each waiting ingest holds its parsed report: unbounded, a burst of first reports (a fleet's
// agents starting at once) grew the server past 4 GB of RSS under bench:fleet while they queued.
export const INGEST_RETRY_AFTER_SECONDS = 5;

/**
 * `ingest()` once fewer than `concurrency` ingests of this process run on `db` (at once without a
 * limit); a ProblemError 503 when `queue` of them wait already.
 */
export function inIngestSlot<T>(db: Database, config: Pick<IngestConfig, "concurrency" | "queue"> | undefined, ingest: () => Promise<T>): Promise<T> {
  const concurrency = config?.concurrency;
  if (!concurrency) return ingest();
  let limit = slots.get(db);
  if (!limit) {
    limit = pLimit(concurrency);
    slots.set(db, limit);
  }
  limit.concurrency = concurrency;
  if (queueFull(limit, config)) return Promise.reject(queueFullProblem());
  return limit(ingest);
}

const queueFull = (limit: LimitFunction, config: Pick<IngestConfig, "concurrency" | "queue">) =>
  config.queue !== undefined && limit.activeCount >= config.concurrency! && limit.pendingCount >= config.queue;

const queueFullProblem = () =>
  new ProblemError(503, `Too many audit reports are waiting to be applied; send it again after the time in Retry-After.`, {
    headers: { "retry-after": String(INGEST_RETRY_AFTER_SECONDS) },
  });

/**
 * The default on PGlite, where a chunk's statements hold this thread while they run (on
 * PostgreSQL they run in the server, and the API only waits): 2,000 violations took ~0.3 s there.
 */
export const DEFAULT_PGLITE_CHUNK_SIZE = 250;

export type IngestOutcome =
  | { kind: "ingested"; result: IngestResult; chunks: number }
  /** A late retry of an older report, or a newer report replaced this one mid-way: not applied. */
  | { kind: "superseded" };

/**
 * The report as JSON, gzipped (level 1, in zlib's thread pool), serialised a few hundred
 * violations at a time: JSON.stringify of 16 MB at once took 0.4 s. Each object's list comes
 * last in its object, which only JSON.parse ever reads back.
 */
async function gzipReport(report: AuditReport): Promise<Uint8Array> {
  const gz = createGzip({ level: 1 });
  const out: Buffer[] = [];
  gz.on("data", (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    gz.once("end", resolve);
    gz.once("error", reject);
  });
  const pause = slicer();
  const write = async (s: string) => {
    if (!gz.write(s)) await new Promise((r) => gz.once("drain", r));
    await pause();
  };
  const open = (o: object, key: string) => {
    const head = JSON.stringify({ ...o, [key]: undefined });
    return `${head.slice(0, -1)}${head.length > 2 ? "," : ""}${JSON.stringify(key)}:[`;
  };
  await write(open(report, "constraints"));
  for (let i = 0; i < report.constraints.length; i++) {
    const c = report.constraints[i]!;
    await write(`${i ? "," : ""}${open(c, "violations")}`);
    for (let at = 0; at < c.violations.length; at += 500) {
      await write(`${at ? "," : ""}${JSON.stringify(c.violations.slice(at, at + 500)).slice(1, -1)}`);
    }
    await write("]}");
  }
  gz.end("]}");
  await done;
  return new Uint8Array(Buffer.concat(out));
}

/**
 * Locks the report's row when it is still `collectedAt`'s report and unfinished; null when it is
 * not. With `countOpen`, the environment's open violations (which size the chunks), else 0.
 */
async function lockUnfinished(tx: Db, tenantId: string, environmentId: string, collectedAt: string, countOpen = false): Promise<number | null> {
  const open = countOpen
    ? sql`(select count(*)::int from violations where environment_id = ${environmentId}::uuid and tenant_id = ${tenantId}::uuid and state = 'open')`
    : sql`0`;
  const { rows } = await executePrepared<{ open: number }>(
    tx,
    sql`
    select ${open} as open
    from audit_reports
    where environment_id = ${environmentId}::uuid and tenant_id = ${tenantId}::uuid
      and collected_at = ${new Date(collectedAt).toISOString()}::timestamptz and ingested_at is null
    for update`,
  );
  return rows[0]?.open ?? null;
}

/** What one report's ingest needs: its environment, the report, its drafts' shadow constraints. */
export interface IngestArgs {
  tenantId: string;
  environmentId: string;
  report: AuditReport;
  /** The drafts' shadow constraints (draft-preview.ts); null: leave the previews as they are (a resumed report, whose shadows were not stored). */
  shadows: ConstraintAudit[] | null;
  receivedAt: Date;
  linkBase: string;
}

// Up to this many listed violations a report is serialised and gzipped in one go: ~1 ms for a
// fleet-sized report (~250), where the sliced stream cost ~7 ms in thread-pool hops alone.
const SYNC_GZIP_MAX = 500;

const gzipped = (report: AuditReport, listed: number) => (listed <= SYNC_GZIP_MAX ? Promise.resolve(gzipJson(report)) : gzipReport(report));
const listedCountOf = (report: AuditReport) => report.constraints.reduce((n, c) => n + c.violations.length, 0);
const NOTHING: IngestResult = { seen: 0, opened: 0, resolved: 0, queued: 0 };

/** Stores the report and applies it before it returns: what POST /agent/v1/audit-report does unless asked to respond asynchronously. */
export async function ingestInChunks(db: Database, args: IngestArgs, config: IngestConfig = DEFAULT_INGEST_CONFIG): Promise<IngestOutcome> {
  const { tenantId, environmentId, report, receivedAt } = args;
  const listedCount = listedCountOf(report);
  const bytes = await gzipped(report, listedCount);
  const first = await db.withTenant(tenantId, async (tx) => {
    // Violation history moves only with a report that was stored: a late retry of an older one
    // must not resolve what a newer one saw. An environment deleted meanwhile fails the insert's
    // foreign key (the route's 404).
    const s = await storeReport(tx, { tenantId, environmentId, report, receivedAt, gzipped: bytes });
    if (!s.stored) return { kind: "superseded" as const };
    if (s.ingested) return { kind: "ingested" as const, result: NOTHING, chunks: 0 };
    return applyOrPlan(tx, args, s.open, listedCount, config);
  });
  return first.kind === "chunked" ? applyInChunks(db, args, first.chunks, config) : first;
}

/**
 * Stores the report as the environment's latest, unfinished, and nothing more: the diff is
 * ingestStored's, later (the route's Prefer: respond-async). "pending" when there is something
 * left to apply.
 */
export async function storeForLater(db: Database, args: IngestArgs): Promise<"pending" | "superseded" | "ingested"> {
  const { tenantId, environmentId, report, receivedAt } = args;
  const bytes = await gzipped(report, listedCountOf(report));
  return db.withTenant(tenantId, async (tx) => {
    const s = await storeReport(tx, { tenantId, environmentId, report, receivedAt, gzipped: bytes });
    return !s.stored ? "superseded" : s.ingested ? "ingested" : "pending";
  });
}

/**
 * Applies a report stored and not finished (storeForLater's, or one whose ingest was cut short):
 * the same transactions as ingestInChunks after its first. Superseded when it is no longer the
 * environment's unfinished report; running it twice at once is safe (every chunk locks the report's row first).
 */
export async function ingestStored(db: Database, args: IngestArgs, config: IngestConfig = DEFAULT_INGEST_CONFIG): Promise<IngestOutcome> {
  const { tenantId, environmentId, report } = args;
  const first = await db.withTenant(tenantId, async (tx) => {
    const open = await lockUnfinished(tx, tenantId, environmentId, report.collectedAt, true);
    if (open === null) return { kind: "superseded" as const };
    return applyOrPlan(tx, args, open, listedCountOf(report), config);
  });
  return first.kind === "chunked" ? applyInChunks(db, args, first.chunks, config) : first;
}

/** In the transaction that stored or locked the report: a report of one chunk is applied and finished there; a larger one is planned. */
async function applyOrPlan(tx: Db, args: IngestArgs, open: number, listedCount: number, config: IngestConfig) {
  const chunks = Math.max(1, Math.ceil(Math.max(listedCount, open) / config.chunkSize));
  if (chunks > 1) return { kind: "chunked" as const, chunks };
  const r = await diffRange(tx, contextOf(args), listedViolations(args.environmentId, args.report));
  return { kind: "ingested" as const, result: await finish(tx, args, r), chunks: 1 };
}

const contextOf = (a: IngestArgs) => ({ tenantId: a.tenantId, environmentId: a.environmentId, report: a.report, now: a.receivedAt, linkBase: a.linkBase });

async function finish(tx: Db, args: IngestArgs, r: IngestResult): Promise<IngestResult> {
  const done = await finishReport(tx, contextOf(args));
  // Only the report that finished (the stored one) moves the drafts' previews, and only where there are drafts.
  if (done?.drafts && args.shadows) {
    const { tenantId, environmentId, shadows, report, receivedAt } = args;
    await recordPreviews(tx, { tenantId, environmentId, shadows, collectedAt: new Date(report.collectedAt), now: receivedAt });
  }
  return { ...r, queued: r.queued + (done?.digests ?? 0) };
}

/** Step 2 and 3 of the header: the ranges, each in transactions of its own, then the finish. */
async function applyInChunks(db: Database, args: IngestArgs, chunks: number, config: IngestConfig): Promise<IngestOutcome> {
  const { tenantId, environmentId, report } = args;
  const ctx = contextOf(args);
  const listed = await fingerprintsInSlices(environmentId, report, config.chunkSize);
  const ranges = fingerprintRanges(chunks);
  const byRange: ListedViolation[][] = ranges.map(() => []);
  const pause = slicer();
  for (let n = 0; n < listed.length; n++) {
    const l = listed[n]!;
    byRange[rangeIndex(l.fp, ranges)]!.push(l);
    if ((n & 1023) === 0) await pause();
  }
  const locked = async (tx: Db) => (await lockUnfinished(tx, tenantId, environmentId, report.collectedAt)) !== null;
  const total = { ...NOTHING };
  const openBatch = Math.max(1, Math.ceil(config.chunkSize / 2));
  for (let i = 0; i < ranges.length; i++) {
    // Requests that arrived during the last chunk are read (and queue for the database) now.
    await yieldToEventLoop();
    const r = await db.withTenant(tenantId, async (tx) => ((await locked(tx)) ? matchRange(tx, ctx, byRange[i]!, ranges[i]) : null));
    if (!r) return { kind: "superseded" };
    for (const key of ["seen", "resolved", "queued"] as const) total[key] += r[key];
    // What the range does not have open, sent in full and opened in transactions of their own:
    // in the one above, a new environment's chunk (all of it fresh) took three times as long.
    for (let at = 0; at < r.fresh.length; at += openBatch) {
      await yieldToEventLoop();
      const b = await db.withTenant(tenantId, async (tx) => ((await locked(tx)) ? openFresh(tx, ctx, r.fresh.slice(at, at + openBatch)) : null));
      if (!b) return { kind: "superseded" };
      total.opened += b.opened;
      total.queued += b.queued;
    }
    await config.afterChunk?.(i + 1, ranges.length + 1);
  }
  await yieldToEventLoop();
  const result = await db.withTenant(tenantId, async (tx) => ((await locked(tx)) ? finish(tx, args, total) : null));
  await config.afterChunk?.(ranges.length + 1, ranges.length + 1);
  return result ? { kind: "ingested", result, chunks: ranges.length + 1 } : { kind: "superseded" };
}

/** The range of `ranges` (fingerprintRanges(n)) a fingerprint falls in. */
function rangeIndex(fp: string, ranges: FingerprintRange[]): number {
  const i = Math.floor((Number.parseInt(fp.slice(0, 8), 16) * ranges.length) / 0x1_0000_0000);
  // The bounds are floored in fingerprintRanges; step to the neighbour where rounding disagrees.
  for (const j of [i, i - 1, i + 1]) if (ranges[j] && inRange(fp, ranges[j]!)) return j;
  return ranges.findIndex((r) => inRange(fp, r));
}

/** listedViolations, a few constraints at a time with a yield between, so hashing stalls nothing. */
async function fingerprintsInSlices(environmentId: string, report: AuditReport, sliceSize: number): Promise<ListedViolation[]> {
  const out: ListedViolation[] = [];
  let from = 0;
  while (from < report.constraints.length) {
    let to = from;
    let n = 0;
    while (to < report.constraints.length && (n === 0 || n + report.constraints[to]!.violations.length <= sliceSize))
      n += report.constraints[to++]!.violations.length;
    for (const l of listedViolations(environmentId, report, from, to)) out.push(l);
    from = to;
    await yieldToEventLoop();
  }
  return out;
}
