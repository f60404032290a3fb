// The admission-denial history (src/db/schema-denials.ts): admission events from an environment's
// agent folded into one row per (action, constraint, namespace, workload), and the queries the
// routes answer from it. A row's source (webhook or apiserver) is its latest event's, like its
// message: a control moved from the webhook to the API server keeps its workload's one row.
//
// Idempotent by construction: each Kubernetes Event is remembered with the count already folded
// in (admission_events_seen), so a batch sent again — an agent restart, a retried POST — adds
// nothing, and a grown count adds only the difference. A batch is one transaction.
import { sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { denials } from "../db/schema.ts";
import { invalidCursor, olderThanCursor } from "../lib/cursor.ts";
import { catalogue } from "../policies/catalogue.ts";
import { SEVERITY_BY_CONTROL_ID } from "../policies/severity.ts";
import type { AdmissionEvent } from "../protocol/admission.ts";
import { SHADOW_NAME_PREFIX } from "../protocol/agent.ts";
import type { DenialSchema } from "../routes/denials.ts";
import { requireEnvironment } from "./environments.ts";
import { enqueueEvent, isoJson } from "./webhook-outbox.ts";

export type DenialJson = z.infer<typeof DenialSchema>;

/** Denials not seen for this long are deleted (DENIAL_RETENTION_DAYS). */
export const DEFAULT_DENIAL_RETENTION_DAYS = 30;

const controlByKind = new Map(catalogue.map((c) => [c.kind, c.id]));

/** The workload a refusal is filed under: the resolved owner, else the object itself. */
export function workloadOf(e: AdmissionEvent): { kind: string; name: string } {
  return e.owner ?? { kind: e.resource.kind, name: e.resource.name };
}

export interface IngestResult {
  /** Events that added to a count (new, or grown since last sent). */
  counted: number;
  /** Events already folded in at this count (re-sent). */
  unchanged: number;
  /** Events of a draft's shadow constraints: a preview of what the draft would refuse, not a denial. */
  shadow: number;
}

/** A denial that keeps happening is notified again at most this often (DENIAL_NOTIFY_WINDOW_SECONDS). */
export const DEFAULT_DENIAL_NOTIFY_WINDOW_SECONDS = 3600;

/**
 * Folds a batch of admission events into the environment's denial history, and queues the
 * coalesced webhooks (notifyDenials) in the same transaction.
 */
export async function recordAdmissionEvents(
  tx: Db,
  ids: { tenantId: string; environmentId: string },
  events: readonly AdmissionEvent[],
  notify: { now: Date; windowSeconds: number } = { now: new Date(), windowSeconds: DEFAULT_DENIAL_NOTIFY_WINDOW_SECONDS },
): Promise<IngestResult> {
  // The same Event twice in one batch: its larger count is the truth.
  const byUid = new Map<string, AdmissionEvent>();
  let shadow = 0;
  for (const e of events) {
    if (e.constraintName.startsWith(SHADOW_NAME_PREFIX)) {
      shadow++;
      continue;
    }
    const prev = byUid.get(e.uid);
    if (!prev || e.count > prev.count) byUid.set(e.uid, e);
  }
  const uids = [...byUid.keys()];
  if (uids.length === 0) return { counted: 0, unchanged: 0, shadow };
  const seen = new Map<string, number>();
  const found = await tx.execute<{ event_uid: string; count: number }>(
    sql`select event_uid, count from admission_events_seen
        where environment_id = ${ids.environmentId}::uuid and event_uid in (${sql.join(
          uids.map((u) => sql`${u}`),
          sql`, `,
        )})`,
  );
  for (const r of found.rows) seen.set(r.event_uid, r.count);

  let counted = 0;
  let unchanged = 0;
  const touched = new Set<string>();
  for (const e of byUid.values()) {
    const delta = e.count - (seen.get(e.uid) ?? 0);
    if (delta <= 0) {
      unchanged++;
      continue;
    }
    counted++;
    const w = workloadOf(e);
    // The agent's clock is not the server's: a time ahead of now is now (a row dated 9999 would
    // outrank every later one and never age out).
    const nowMs = notify.now.getTime();
    const lastMs = Math.min(Date.parse(e.lastSeenAt), nowMs);
    const last = new Date(lastMs).toISOString();
    const first = new Date(Math.min(Date.parse(e.firstSeenAt), lastMs)).toISOString();
    // What the row shows (message, user, object) is the latest event's.
    const { rows } = await tx.execute<{ id: string }>(sql`
      insert into denials as d (tenant_id, environment_id, action, source, control, constraint_kind, constraint_name, namespace,
                                workload_kind, workload_name, object_kind, object_name, username, message, count, first_seen_at, last_seen_at)
      values (${ids.tenantId}::uuid, ${ids.environmentId}::uuid, ${e.action}, ${e.source}, ${controlByKind.get(e.constraintKind) ?? null},
              ${e.constraintKind}, ${e.constraintName}, ${e.resource.namespace}, ${w.kind}, ${w.name}, ${e.resource.kind}, ${e.resource.name},
              ${e.username}, ${e.message}, ${delta}, ${first}::timestamptz, ${last}::timestamptz)
      on conflict (environment_id, action, constraint_name, namespace, workload_kind, workload_name) do update set
        count = d.count + excluded.count,
        first_seen_at = least(d.first_seen_at, excluded.first_seen_at),
        last_seen_at = greatest(d.last_seen_at, excluded.last_seen_at),
        message = case when excluded.last_seen_at >= d.last_seen_at then excluded.message else d.message end,
        source = case when excluded.last_seen_at >= d.last_seen_at then excluded.source else d.source end,
        username = case when excluded.last_seen_at >= d.last_seen_at then excluded.username else d.username end,
        object_kind = case when excluded.last_seen_at >= d.last_seen_at then excluded.object_kind else d.object_kind end,
        object_name = case when excluded.last_seen_at >= d.last_seen_at then excluded.object_name else d.object_name end
      returning id`);
    touched.add(rows[0]!.id);
    await tx.execute(sql`
      insert into admission_events_seen as s (tenant_id, environment_id, event_uid, count, denial_id, last_seen_at)
      values (${ids.tenantId}::uuid, ${ids.environmentId}::uuid, ${e.uid}, ${e.count}, ${rows[0]!.id}::uuid, ${last}::timestamptz)
      on conflict (environment_id, event_uid) do update set count = excluded.count, last_seen_at = greatest(s.last_seen_at, excluded.last_seen_at)`);
  }
  await notifyDenials(tx, ids, [...touched], notify.now, notify.windowSeconds);
  return { counted, unchanged, shadow };
}

// What a message says with the refused object's own name taken out: a ReplicaSet's every retry
// is a Pod with a new generated name, which is not a change worth a notification.
const messageGist = sql`replace(d.message, d.object_name, '<object>')`;

/**
 * Webhooks admission.denied / admission.warned, coalesced per denial row (environment, action,
 * constraint, namespace, workload): one when the row appears, one when its message changes (the
 * refused object's generated name aside), and while it keeps happening at most one per window —
 * so a crash-looping Deployment is one notification until it changes, not one per retry. Dryrun
 * records are history only.
 */
async function notifyDenials(tx: Db, ids: { tenantId: string; environmentId: string }, denialIds: string[], now: Date, windowSeconds: number): Promise<void> {
  if (denialIds.length === 0) return;
  const { rows } = await tx.execute<{ id: string; action: "deny" | "warn"; j: Record<string, unknown>; env_name: string }>(sql`
    select d.id, d.action, ${denialJson} as j, e.name as env_name
    from denials d join environments e on e.id = d.environment_id and e.tenant_id = d.tenant_id
    where d.tenant_id = ${ids.tenantId}::uuid and d.id in (${sql.join(
      denialIds.map((id) => sql`${id}::uuid`),
      sql`, `,
    )})
      and d.action in ('deny', 'warn')
      and (d.notified_at is null
           or ${messageGist} is distinct from d.notified_message
           or (d.count > d.notified_count and d.notified_at <= ${now.toISOString()}::timestamptz - make_interval(secs => ${windowSeconds}::int)))
    order by d.first_seen_at, d.id`);
  for (const r of rows) {
    await enqueueEvent(tx, {
      tenantId: ids.tenantId,
      environmentId: ids.environmentId,
      type: r.action === "deny" ? "admission.denied" : "admission.warned",
      timestamp: now,
      now,
      data: { denial: r.j, environment: { id: ids.environmentId, name: r.env_name } },
      orderingKey: `denial:${r.id}`,
    });
  }
  if (rows.length === 0) return;
  await tx.execute(sql`
    update denials d set notified_at = ${now.toISOString()}::timestamptz, notified_message = ${messageGist}, notified_count = count
    where tenant_id = ${ids.tenantId}::uuid and id in (${sql.join(
      rows.map((r) => sql`${r.id}::uuid`),
      sql`, `,
    )})`);
}

/** Deletes the environment's denials not seen for `days` (their seen-event rows go with them). */
export async function pruneDenials(tx: Db, environmentId: string, now: Date, days: number): Promise<void> {
  await tx.execute(
    sql`delete from denials where environment_id = ${environmentId}::uuid and last_seen_at < ${now.toISOString()}::timestamptz - make_interval(days => ${days}::int)`,
  );
}

// The control's severity (policies/severity.ts), as SQL: the table's ids and levels are our own
// constants, checked to be plain words before they are written into the statement.
const severityCase = sql.raw(
  `case d.control ${[...SEVERITY_BY_CONTROL_ID]
    .map(([id, s]) => {
      if (!/^[A-Za-z]+$/.test(id) || !/^[a-z]+$/.test(s)) throw new Error(`severity table: ${id} ${s}`);
      return `when '${id}' then '${s}'`;
    })
    .join(" ")} end`,
);

/** The API JSON of a denial row aliased `d`. */
export const denialJson = sql`jsonb_build_object(
  'id', d.id, 'environmentId', d.environment_id, 'action', d.action, 'source', d.source, 'control', d.control, 'severity', ${severityCase},
  'constraint', jsonb_build_object('kind', d.constraint_kind, 'name', d.constraint_name),
  'namespace', d.namespace,
  'workload', jsonb_build_object('kind', d.workload_kind, 'name', d.workload_name),
  'object', jsonb_build_object('kind', d.object_kind, 'name', d.object_name),
  'username', d.username, 'message', d.message, 'count', d.count,
  'firstSeenAt', ${isoJson("d.first_seen_at")}, 'lastSeenAt', ${isoJson("d.last_seen_at")})`;

export interface DenialFilters {
  environment?: string;
  control?: string;
  namespace?: string;
  /** `Kind/name` or a bare name (any kind). */
  workload?: string;
  action?: string;
  since?: string;
}

/** SQL conditions over alias `d` for the tenant and these filters. */
export function denialWhere(tenantId: string, f: DenialFilters): SQL[] {
  const where: SQL[] = [sql`d.tenant_id = ${tenantId}::uuid`];
  if (f.environment) where.push(sql`d.environment_id = ${f.environment}::uuid`);
  if (f.control) where.push(sql`d.control = ${f.control}`);
  if (f.namespace !== undefined) where.push(sql`d.namespace = ${f.namespace}`);
  if (f.action) where.push(sql`d.action = ${f.action}`);
  if (f.since) where.push(sql`d.last_seen_at >= ${new Date(f.since).toISOString()}::timestamptz`);
  if (f.workload) {
    const slash = f.workload.indexOf("/");
    if (slash > 0) where.push(sql`d.workload_kind = ${f.workload.slice(0, slash)} and d.workload_name = ${f.workload.slice(slash + 1)}`);
    else where.push(sql`d.workload_name = ${f.workload}`);
  }
  return where;
}

export const SUMMARY_GROUPS = ["control", "namespace", "workload"] as const;
export type SummaryGroup = (typeof SUMMARY_GROUPS)[number];

/** Refusal counts (sum of counts) and rows per group, largest first. */
export async function denialSummary(tx: Db, where: SQL[], by: SummaryGroup) {
  const key = {
    control: sql`coalesce(d.control, '(none)')`,
    namespace: sql`d.namespace`,
    workload: sql`d.namespace || '/' || d.workload_kind || '/' || d.workload_name`,
  }[by];
  const { rows } = await tx.execute<{ key: string; denials: number; count: number; deny: number; warn: number; dryrun: number }>(sql`
    select ${key} as key, count(*)::int as denials, sum(d.count)::int as count,
           coalesce(sum(d.count) filter (where d.action = 'deny'), 0)::int as deny,
           coalesce(sum(d.count) filter (where d.action = 'warn'), 0)::int as warn,
           coalesce(sum(d.count) filter (where d.action = 'dryrun'), 0)::int as dryrun
    from denials d where ${sql.join(where, sql` and `)}
    group by 1 order by count desc, key limit 200`);
  return rows.map((r) => ({ key: r.key, denials: r.denials, count: r.count, byAction: { deny: r.deny, warn: r.warn, dryrun: r.dryrun } }));
}

/** A page of the tenant's denials matching `where`, last seen first, below the cursor's row; limit + 1 rows (lib/cursor.ts keysetPage). */
export async function listDenials(tx: Db, tenantId: string, where: SQL[], page: { after: { id: string } | undefined; limit: number }): Promise<DenialJson[]> {
  if (page.after) {
    const { rows } = await tx.execute(sql`select 1 from denials where id = ${page.after.id}::uuid and tenant_id = ${tenantId}::uuid`);
    if (!rows.length) throw invalidCursor();
    where = [...where, olderThanCursor(denials, page.after, tenantId, { sortBy: denials.lastSeenAt, as: "d" })];
  }
  const { rows } = await tx.execute<{ j: DenialJson }>(
    sql`select ${denialJson} as j from denials d where ${sql.join(where, sql` and `)} order by d.last_seen_at desc, d.id desc limit ${page.limit + 1}`,
  );
  return rows.map((r) => r.j);
}

export async function getDenial(tx: Db, tenantId: string, id: string): Promise<DenialJson> {
  const { rows } = await tx.execute<{ j: DenialJson }>(
    sql`select ${denialJson} as j from denials d where d.id = ${id}::uuid and d.tenant_id = ${tenantId}::uuid`,
  );
  if (!rows[0]) throw new ProblemError(404, `No denial ${id}.`);
  return rows[0].j;
}

/** One environment's summary; 404 when it is not this tenant's. */
export async function environmentDenialSummary(tx: Db, tenantId: string, id: string, q: { by: SummaryGroup; since?: string | undefined }) {
  await requireEnvironment(tx, tenantId, id);
  return denialSummary(tx, denialWhere(tenantId, { environment: id, ...(q.since === undefined ? {} : { since: q.since }) }), q.by);
}
