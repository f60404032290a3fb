// Violation history: every audit report the agent sends is diffed, set-based, against what the
// environment already has, inside the transaction that stores the report.
//
// Identity: environment, constraint (kind, name), resource (group, kind, namespace, name) and the
// message, hashed (sha256 of their JSON array) into `fingerprint`, unique per environment.
// Lifecycle, with every time the report's collectedAt (the cluster's view, not our receipt):
//   - first seen → a row, state open (first_seen_at = opened_at = last_seen_at), event "opened";
//   - seen again while open → nothing is written, unless what it shows changed (enforcement
//     action, control, resource version: a constraint switched to warn, say; event "updated",
//     a webhook only, with the previous values). A constraint
//     listed in full records its audit time once in constraint_audits, and an open violation
//     under it was necessarily in that audit, so its "last seen" is the later of the two
//     (lastSeenSql). Only sightings in a truncated list move the row's own last_seen_at. This
//     keeps an ingest proportional to what changed, not to the thousands merely still there;
//   - absent from a later report → resolved (resolved_at, last_seen_at made final), event
//     "resolved". Only what the report could see resolves: a constraint reported `truncated`
//     (Gatekeeper lists at most --constraint-violations-limit) or not yet audited (auditTimestamp
//     null) resolves nothing; a constraint absent from the report (pruned, disabled) resolves all
//     of its violations;
//   - seen again after it was resolved → the same row reopens (same id, opened_at = now's report,
//     resolved_at cleared, occurrences + 1) and a new "opened" event, so the row is the identity
//     and violation_events is every occurrence.
// The same report twice changes nothing, and nothing seen after a report's collectedAt is
// resolved by it; the route also ingests only reports it stored, so a late retry changes nothing.
import { Buffer } from "node:buffer";
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { executePrepared, runPrepared } from "../db/prepared.ts";
import { gzipJson } from "../db/gzip-json.ts";
import { auditReports } from "../db/schema.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { isoJson } from "./webhook-outbox.ts";
import { queueDigests, queuePerViolation } from "./violation-webhooks.ts";
import { type FingerprintRange, type ListedViolation, listedViolations, WHOLE_RANGE } from "./violation-fingerprints.ts";

export interface IngestResult {
  /** Violations listed in the report (distinct identities). */
  seen: number;
  /** Opened by this report, first time or again. */
  opened: number;
  resolved: number;
  /** Webhook deliveries queued. */
  queued: number;
}

/**
 * A violation's effective "last seen" (alias `v`): while open, the later of its own last_seen_at
 * and its constraint's last complete audit (see the header); once resolved, its own, made final.
 */
const lastSeenSql = `case when v.state = 'open' then greatest(v.last_seen_at,
    (select a.complete_at from constraint_audits a where a.environment_id = v.environment_id
       and a.constraint_kind = v.constraint_kind and a.constraint_name = v.constraint_name))
  else v.last_seen_at end`;

/** The API and webhook JSON of a violation row aliased `v`. */
export const violationJson = sql`jsonb_build_object(
  'id', v.id, 'environmentId', v.environment_id,
  'constraint', jsonb_build_object('kind', v.constraint_kind, 'name', v.constraint_name),
  'control', v.control, 'enforcementAction', v.enforcement_action,
  'resource', jsonb_build_object('group', v.resource_group, 'version', v.resource_version, 'kind', v.resource_kind, 'namespace', v.namespace, 'name', v.name),
  'message', v.message, 'state', v.state,
  'firstSeenAt', ${isoJson("v.first_seen_at")}, 'openedAt', ${isoJson("v.opened_at")},
  'lastSeenAt', ${isoJson(lastSeenSql)}, 'resolvedAt', ${isoJson("v.resolved_at")},
  'occurrences', v.occurrences)`;

/**
 * Keep `report` as the environment's latest, unless a newer one is stored already (a late retry).
 * Returns whether it was stored; only a stored report may be ingested.
 */
export async function storeAuditReport(
  tx: Db,
  args: { tenantId: string; environmentId: string; report: AuditReport; receivedAt: Date; gzipped?: Uint8Array },
): Promise<boolean> {
  return (await storeReport(tx, args)).stored;
}

/**
 * storeAuditReport, also saying whether the stored report was ingested already: the same report
 * again (same collectedAt) keeps its ingest state, so a retry of a finished report changes
 * nothing and a retry of an unfinished one resumes it; any other report starts unfinished.
 */
export async function storeReport(
  tx: Db,
  args: { tenantId: string; environmentId: string; report: AuditReport; receivedAt: Date; gzipped?: Uint8Array },
): Promise<{ stored: boolean; ingested: boolean; open: number }> {
  const { tenantId, environmentId, report, receivedAt } = args;
  const totalViolations = report.constraints.reduce((n, k) => n + k.totalViolations, 0);
  const stored = await runPrepared(
    tx,
    tx
      .insert(auditReports)
      .values({
        environmentId,
        tenantId,
        report: byteaParam(args.gzipped ?? gzipJson(report)),
        totalViolations,
        receivedAt,
        collectedAt: new Date(report.collectedAt),
      })
      .onConflictDoUpdate({
        target: auditReports.environmentId,
        // excluded.*, so the report crosses the wire once, not twice.
        set: {
          report: sql`excluded.report`,
          totalViolations: sql`excluded.total_violations`,
          receivedAt: sql`excluded.received_at`,
          collectedAt: sql`excluded.collected_at`,
          ingestedAt: sql`case when ${auditReports.collectedAt} = excluded.collected_at then ${auditReports.ingestedAt} end`,
        },
        // Ordered by the agent's clock (a late retry of an older report must not win), but never
        // later than when the server received it: a stored report dated in the future (accepted by
        // an API before AUDIT_REPORT_MAX_AHEAD_SECONDS) then ranks at its receipt, not above all.
        setWhere: sql`least(excluded.collected_at, excluded.received_at) >= least(${auditReports.collectedAt}, ${auditReports.receivedAt})`,
      })
      // With the environment's open violations, which size the ingest's chunks (audit-ingest.ts):
      // one round trip fewer on every report.
      .returning({
        ingestedAt: auditReports.ingestedAt,
        open: sql<number>`(select count(*)::int from violations where environment_id = ${environmentId}::uuid and tenant_id = ${tenantId}::uuid and state = 'open')`,
      }),
  );
  return { stored: stored.length > 0, ingested: stored[0]?.ingestedAt != null, open: stored[0]?.open ?? 0 };
}

/**
 * Bytes as a bytea parameter sent as base64 text, decoded by the database. PGlite's own bytea
 * parameter encoding runs in JavaScript on the API's thread, byte by byte: for a 16 MB report's
 * ~0.5 MB of gzip it cost ~90 ms of CPU in one go (every other tenant waited), where base64 is
 * native in both directions (~15 ms, most of it the row's write).
 */
const byteaParam = (bytes: Uint8Array) => sql`decode(${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64")}, 'base64')`;

/** What one diff statement pair needs of its report: ids, the report's time and its constraints. */
export interface DiffContext {
  tenantId: string;
  environmentId: string;
  report: AuditReport;
  now: Date;
}

/**
 * Diff the listed violations of one fingerprint range into the history (`listed`: those of the
 * report in `range`, deduplicated). The report must be the one stored for the environment and
 * not yet finished (storeAuditReport, finishReport): anything else changes nothing and throws.
 * Running it again for the same report and range changes nothing, so a retried report resumes.
 *
 * Two statements: matchRange, then openFresh for what it found not open.
 */
export async function diffRange(tx: Db, ctx: DiffContext, listedInRange: ListedViolation[], range: FingerprintRange = WHOLE_RANGE): Promise<IngestResult> {
  const a = await matchRange(tx, ctx, listedInRange, range);
  const b = await openFresh(tx, ctx, a.fresh);
  return { seen: a.seen, opened: b.opened, resolved: a.resolved, queued: a.queued + b.queued };
}

/**
 * diffRange's first statement. It matches the listed fingerprints (computed in the API, so only
 * 64 characters a violation cross the wire) against the open violations in the range: it records
 * what was seen, resolves what is gone, and returns the listed violations not open (`fresh`),
 * for openFresh. Those may be opened in later transactions (audit-ingest.ts does, in batches):
 * until they are, a rerun of this range finds them still not open and returns them again.
 */
export async function matchRange(
  tx: Db,
  ctx: DiffContext,
  listedInRange: ListedViolation[],
  range: FingerprintRange = WHOLE_RANGE,
): Promise<{ seen: number; resolved: number; queued: number; fresh: ListedViolation[] }> {
  const { tenantId, environmentId, report, now } = ctx;
  const at = sql`${new Date(report.collectedAt).toISOString()}::timestamptz`;
  const ids = { tenant: sql`${tenantId}::uuid`, env: sql`${environmentId}::uuid`, environmentId, at, now: sql`${now.toISOString()}::timestamptz` };
  const { tenant, env } = ids;
  // One entry per listed identity (a duplicate in Gatekeeper's list is the same violation).
  const unique = new Map<string, ListedViolation>();
  for (const r of listedInRange) if (!unique.has(r.fp)) unique.set(r.fp, r);
  const rows = [...unique.values()];
  const k = report.constraints;
  const inRangeSql = sql`${range.lo === null ? sql`true` : sql`v.fingerprint >= ${range.lo}`} and ${range.hi === null ? sql`true` : sql`v.fingerprint < ${range.hi}`}`;

  const a = (
    await executePrepared<{ stored: number; seen: number; resolved: number; queued: number; fresh: number[] | null }>(
      tx,
      sql`
    with stored as (
      select 1 from audit_reports ar
      where ar.environment_id = ${env} and ar.tenant_id = ${tenant} and ar.collected_at = ${at} and ar.ingested_at is null
    ),
    k as (
      select x.i, x.ck, x.cn, x.ctl, x.blind
      from unnest(${columnsOf(k, [
        [(c) => c.kind, "text[]"],
        [(c) => c.name, "text[]"],
        [(c) => c.control, "text[]"],
        [(c) => c.truncated || c.auditTimestamp === null, "boolean[]"],
      ])}) with ordinality as x(ck, cn, ctl, blind, i)
      where exists (select 1 from stored)
    ),
    input as (
      select x.ord, x.fp, x.ea, x.ver, k.ctl, k.blind
      from unnest(${columnsOf(rows, [
        [(r) => r.fp, "text[]"],
        [(r) => r.c, "int[]"],
        [(r) => r.ea, "text[]"],
        [(r) => r.v.version, "text[]"],
      ])}) with ordinality as x(fp, c, ea, ver, ord)
      join k on k.i = x.c
    ),
    cur as (
      select v.id, v.fingerprint, v.constraint_kind, v.constraint_name, v.last_seen_at, v.control, v.enforcement_action, v.resource_version
      from violations v where v.environment_id = ${env} and v.tenant_id = ${tenant} and v.state = 'open' and ${inRangeSql}
    ),
    -- Listed vs open, matched once, keeping only what changes: listed and not open, open and
    -- not listed, or open with something to record. A FULL JOIN can only run as a hash or merge
    -- join, so the plan stays linear even when the statistics have not seen these rows yet.
    diff as (
      select d.* from (
        select i.*, c.id, c.constraint_kind, c.constraint_name, c.last_seen_at, i.fp is not null as listed,
               c.control as was_ctl, c.enforcement_action as was_ea, c.resource_version as was_ver,
               c.control is distinct from i.ctl or c.enforcement_action <> i.ea or c.resource_version <> i.ver as changed,
               c.control is distinct from i.ctl or c.enforcement_action <> i.ea or c.resource_version <> i.ver
                 or (i.blind and c.last_seen_at < ${at}) as stale
        from input i full join cur c on c.fingerprint = i.fp
      ) d
      where d.id is null or not d.listed or d.stale
    ),
    -- Both updates below find their rows by id alone: the planner drives them from diff, one
    -- primary-key probe per row (EXPLAIN on PostgreSQL, a tenant of 500,000 violations). Naming
    -- the environment as well made PGlite's planner, which has no statistics (no autovacuum),
    -- start from all of the environment's violations and scan diff for each (a 51,000-violation
    -- first report: ~1 s per chunk, growing with each).
    -- Open and listed again: written only when what it shows changed, or to record a sighting in
    -- a truncated list (a complete one is recorded once, by finishReport).
    refreshed as (
      update violations v set control = d.ctl, enforcement_action = d.ea, resource_version = d.ver,
             last_seen_at = case when d.blind then greatest(v.last_seen_at, ${at}) else v.last_seen_at end,
             changed_at = case when d.changed then ${at} else v.changed_at end
      from diff d where v.id = d.id and d.listed and d.stale
      returning v.*, d.changed, d.was_ctl, d.was_ea, d.was_ver
    ),
    resolved as (
      update violations v set state = 'resolved', resolved_at = ${at}, changed_at = ${at}, last_seen_at = greatest(d.last_seen_at, a.complete_at)
      from diff d left join constraint_audits a
        on a.environment_id = ${env} and a.constraint_kind = d.constraint_kind and a.constraint_name = d.constraint_name
      where v.id = d.id and not d.listed and exists (select 1 from stored)
        and greatest(d.last_seen_at, a.complete_at) < ${at}
        and not exists (select 1 from k where k.blind and k.ck = d.constraint_kind and k.cn = d.constraint_name)
      returning v.*
    ),
    ev as (insert into violation_events (tenant_id, environment_id, violation_id, type, at) select ${tenant}, ${env}, id, 'resolved', ${at} from resolved returning 1),
    wh as (${queuePerViolation(ids, "violation.resolved", "resolved")} returning 1),
    -- What an open violation shows changed (a constraint switched from warn to deny, say).
    wu as (${queuePerViolation(
      ids,
      "violation.updated",
      "(select * from refreshed where changed)",
      sql`, 'previous', jsonb_build_object('control', v.was_ctl, 'enforcementAction', v.was_ea, 'resourceVersion', v.was_ver)`,
    )} returning 1)
    select (select count(*)::int from stored) as stored, (select count(*)::int from input) as seen,
           (select count(*)::int from resolved) as resolved, (select count(*)::int from wh) + (select count(*)::int from wu) as queued,
           (select array_agg(ord) from diff where listed and id is null) as fresh`,
    )
  ).rows[0]!;
  if (a.stored !== 1) throw new Error(`diffRange: no stored report (unfinished) of environment ${environmentId} collected at ${report.collectedAt}`);

  return { seen: a.seen, resolved: a.resolved, queued: a.queued, fresh: (a.fresh ?? []).map((ord) => rows[ord - 1]!) };
}

/**
 * diffRange's second statement: opens `fresh` (matchRange's, or a part of it), sent in full: new
 * rows, or resolved ones again, with their events and webhooks. The report must still be the
 * stored, unfinished one (the caller checks, as for matchRange). A violation opened already
 * (a rerun) is left as it is and not counted.
 */
export async function openFresh(tx: Db, ctx: DiffContext, fresh: ListedViolation[]): Promise<{ opened: number; queued: number }> {
  if (!fresh.length) return { opened: 0, queued: 0 };
  const { tenantId, environmentId, report, now } = ctx;
  const at = sql`${new Date(report.collectedAt).toISOString()}::timestamptz`;
  const ids = { tenant: sql`${tenantId}::uuid`, env: sql`${environmentId}::uuid`, environmentId, at, now: sql`${now.toISOString()}::timestamptz` };
  const { tenant, env } = ids;
  const k = report.constraints;
  return (
    await executePrepared<{ opened: number; queued: number }>(
      tx,
      sql`
      with input as (
        select x.*, k.ck, k.cn, k.ctl
        from unnest(${columnsOf(fresh, [
          [(r) => r.fp, "text[]"],
          [(r) => r.c, "int[]"],
          [(r) => r.ea, "text[]"],
          [(r) => r.v.group, "text[]"],
          [(r) => r.v.version, "text[]"],
          [(r) => r.v.kind, "text[]"],
          [(r) => r.v.namespace, "text[]"],
          [(r) => r.v.name, "text[]"],
          [(r) => r.v.message, "text[]"],
        ])}) as x(fp, c, ea, g, ver, rk, ns, n, m)
        join unnest(${columnsOf(k, [
          [(c) => c.kind, "text[]"],
          [(c) => c.name, "text[]"],
          [(c) => c.control, "text[]"],
        ])})
             with ordinality as k(ck, cn, ctl, i) on k.i = x.c
      ),
      opened as (
        insert into violations as v (tenant_id, environment_id, fingerprint, constraint_kind, constraint_name, control, enforcement_action,
                                     resource_group, resource_version, resource_kind, namespace, name, message, state, first_seen_at, opened_at, last_seen_at, changed_at)
        select ${tenant}, ${env}, i.fp, i.ck, i.cn, i.ctl, i.ea, i.g, i.ver, i.rk, i.ns, i.n, i.m, 'open', ${at}, ${at}, ${at}, ${at} from input i
        on conflict (environment_id, fingerprint) do update set
          state = 'open', opened_at = excluded.opened_at, last_seen_at = excluded.last_seen_at, resolved_at = null, changed_at = excluded.changed_at,
          occurrences = v.occurrences + 1,
          control = excluded.control, enforcement_action = excluded.enforcement_action, resource_version = excluded.resource_version
        where v.state = 'resolved' and v.resolved_at < excluded.opened_at
        returning v.*
      ),
      ev as (insert into violation_events (tenant_id, environment_id, violation_id, type, at) select ${tenant}, ${env}, id, 'opened', ${at} from opened returning 1),
      wh as (${queuePerViolation(ids, "violation.opened", "opened")} returning 1)
      select (select count(*)::int from opened) as opened, (select count(*)::int from wh) as queued`,
    )
  ).rows[0]!;
}

/**
 * The end of a report's ingest, after every range is diffed: each constraint listed in full
 * records its audit time (constraint_audits: the "last seen" of what is still open under it;
 * only now, so the ranges' resolutions all compared against the previous audit), the digest
 * endpoints get their one violations.changed, and the report is marked ingested. Returns the
 * digests queued and whether the environment has an open draft (whose preview the report may
 * update: draft-preview.ts), or null when the report is no longer the unfinished stored one (a
 * newer one replaced it, or a concurrent retry finished it): then nothing is written.
 */
export async function finishReport(tx: Db, ctx: DiffContext & { linkBase: string }): Promise<{ digests: number; drafts: boolean } | null> {
  const { tenantId, environmentId, report, now } = ctx;
  const at = sql`${new Date(report.collectedAt).toISOString()}::timestamptz`;
  const complete = report.constraints.filter((c) => !c.truncated && c.auditTimestamp !== null);
  // The completion and the audit times in one statement (one round trip): the audit times are
  // written only when this transaction is the one that finishes the report.
  const { rows } = await executePrepared<{ digests: boolean; drafts: boolean }>(
    tx,
    sql`
    with done as (
      update audit_reports set ingested_at = ${now.toISOString()}::timestamptz
      where environment_id = ${environmentId}::uuid and tenant_id = ${tenantId}::uuid and collected_at = ${at} and ingested_at is null
      returning 1
    ), audits as (
      insert into constraint_audits as a (environment_id, tenant_id, constraint_kind, constraint_name, complete_at)
      select distinct on (k.ck, k.cn) ${environmentId}::uuid, ${tenantId}::uuid, k.ck, k.cn, ${at}
      from unnest(${columnsOf(complete, [
        [(c) => c.kind, "text[]"],
        [(c) => c.name, "text[]"],
      ])}) as k(ck, cn)
      where exists (select 1 from done)
      on conflict (environment_id, constraint_kind, constraint_name) do update set complete_at = excluded.complete_at
      where a.complete_at < excluded.complete_at
    )
    select exists (select 1 from webhook_endpoints e where e.tenant_id = ${tenantId}::uuid and e.delivery_mode = 'digest') as digests,
      exists (select 1 from drafts d where d.tenant_id = ${tenantId}::uuid and d.environment_id = ${environmentId}::uuid and d.expires_at > ${now.toISOString()}::timestamptz) as drafts
    from done`,
  );
  if (!rows.length) return null;
  // Most tenants have no digest endpoint, and most environments no open draft: then neither the
  // digest query (its planning alone ~2 ms) nor the drafts' is sent.
  return { digests: rows[0]!.digests ? await queueDigests(tx, { ...ctx, at }) : 0, drafts: rows[0]!.drafts };
}

/**
 * Diff `report` into the environment's violation history in one transaction (the report must be
 * the one just stored for it, storeAuditReport): every range at once, then finishReport. The
 * route ingests large reports in chunks instead (audit-ingest.ts). A report already ingested
 * changes nothing.
 */
export async function ingestAuditReport(tx: Db, args: DiffContext & { linkBase?: string }): Promise<IngestResult> {
  const { rows } = await tx.execute<{ ingested: boolean }>(sql`
    select ingested_at is not null as ingested from audit_reports
    where environment_id = ${args.environmentId}::uuid and tenant_id = ${args.tenantId}::uuid and collected_at = ${new Date(args.report.collectedAt).toISOString()}::timestamptz`);
  if (rows[0]?.ingested) return { seen: 0, opened: 0, resolved: 0, queued: 0 };
  const r = await diffRange(tx, args, listedViolations(args.environmentId, args.report));
  const done = await finishReport(tx, { ...args, linkBase: args.linkBase ?? "" });
  return { ...r, queued: r.queued + (done?.digests ?? 0) };
}

/**
 * One array parameter of `type` (text[], int[], boolean[]), sent as JSON: stringifying it is
 * native, where the driver's array literal escapes element by element.
 */
export const arr = (xs: unknown[], type: string) =>
  sql`array(select x::${sql.raw(type.slice(0, -2))} from jsonb_array_elements_text(${JSON.stringify(xs)}::jsonb) x)`;

/** The arguments of one unnest(…): each column of `rows` (its value, its array type) as one array parameter. */
function columnsOf<R>(rows: readonly R[], cols: [(r: R) => unknown, string][]) {
  return sql.join(
    cols.map(([value, type]) => arr(rows.map(value), type)),
    sql`, `,
  );
}
