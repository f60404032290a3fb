// What /v1/violations reads of the violation history (services/violations.ts writes it from the
// agents' audit reports): the filtered list, one violation with its openings and resolutions,
// open counts per environment and for the fleet with its compliant share, and the daily trend.
// The routes (routes/violations.ts) parse, authorise and answer.
import { sql, type SQL } from "drizzle-orm";
import type { z } from "zod";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { violations, type ViolationState } from "../db/schema.ts";
import { invalidCursor, olderThanCursor } from "../lib/cursor.ts";
import type { ViolationSchema } from "../routes/violations.ts";
import { requireEnvironment } from "./environments.ts";
import { violationJson } from "./violations.ts";
import { isoJson } from "./webhook-outbox.ts";

export type ViolationJson = z.infer<typeof ViolationSchema>;

export interface OpenCounts {
  open: number;
  byControl: Record<string, number>;
  byEnforcementAction: Record<string, number>;
}

/** Open violations by control ('(none)' for a constraint without one) and by enforcement action, in one scan. */
async function openCounts(tx: Db, where: SQL): Promise<OpenCounts> {
  const { rows } = await tx.execute<{ k: string; control: string | null; action: string | null; n: number }>(sql`
    select case when grouping(control) = 0 then 'control' else 'action' end as k, coalesce(control, '(none)') as control, enforcement_action as action, count(*)::int as n
    from violations v where v.state = 'open' and ${where}
    group by grouping sets ((control), (enforcement_action))`);
  const byControl: Record<string, number> = {};
  const byEnforcementAction: Record<string, number> = {};
  let open = 0;
  for (const r of rows) {
    if (r.k === "control") {
      byControl[r.control!] = r.n;
      open += r.n;
    } else byEnforcementAction[r.action!] = r.n;
  }
  return { open, byControl, byEnforcementAction };
}

/** The fleet's open counts, and how many environments have an audit report and how many of those no open violation. */
export async function tenantViolationSummary(tx: Db, tenantId: string) {
  const counts = await openCounts(tx, sql`v.tenant_id = ${tenantId}::uuid`);
  const { rows } = await tx.execute<{ total: number; reporting: number; compliant: number }>(sql`
    select count(*)::int as total,
           count(r.environment_id)::int as reporting,
           count(r.environment_id) filter (where not exists (
             select 1 from violations v where v.environment_id = e.id and v.tenant_id = e.tenant_id and v.state = 'open'))::int as compliant
    from environments e left join audit_reports r on r.environment_id = e.id and r.tenant_id = e.tenant_id
    where e.tenant_id = ${tenantId}::uuid`);
  const e = rows[0]!;
  return { ...counts, environments: { ...e, compliantShare: e.reporting ? e.compliant / e.reporting : null } };
}

/** One environment's open counts and its last report (compliant: null before the first); 404 when it is not this tenant's. */
export async function environmentViolationSummary(tx: Db, tenantId: string, id: string) {
  await requireEnvironment(tx, tenantId, id);
  const counts = await openCounts(tx, sql`v.tenant_id = ${tenantId}::uuid and v.environment_id = ${id}::uuid`);
  const { rows } = await tx.execute<{ at: string | null }>(
    sql`select ${isoJson("collected_at")} as at from audit_reports where environment_id = ${id}::uuid and tenant_id = ${tenantId}::uuid`,
  );
  const lastReportAt = rows[0]?.at ?? null;
  return { environmentId: id, lastReportAt, compliant: lastReportAt === null ? null : counts.open === 0, ...counts };
}

/** For each of the last `days` UTC days up to `now`'s: opened and resolved that day, and open at its end; oldest first. */
export async function violationTrend(tx: Db, tenantId: string, q: { days: number; environment?: string | undefined; now: Date }) {
  const envCond = q.environment ? sql`and ev.environment_id = ${q.environment}::uuid` : sql``;
  // Open at the end of a day = openings up to it minus resolutions up to it (each violation's
  // events alternate opened, resolved, …): the count before the window plus a running sum.
  const today = sql`(${q.now.toISOString()}::timestamptz at time zone 'UTC')::date`;
  const first = sql`(${today} - (${q.days}::int - 1))`;
  const { rows } = await tx.execute<{ date: string; opened: number; resolved: number; open: number }>(sql`
    with days as (select d::date as day from generate_series(${first}, ${today}, interval '1 day') d),
    ev as (
      select ev.type, (ev.at at time zone 'UTC')::date as day from violation_events ev
      where ev.tenant_id = ${tenantId}::uuid ${envCond} and ev.at < ((${today} + 1)::timestamp at time zone 'UTC')
    ),
    per_day as (
      select day, count(*) filter (where type = 'opened') as o, count(*) filter (where type = 'resolved') as r
      from ev where day >= ${first} group by day
    ),
    before as (select count(*) filter (where type = 'opened') - count(*) filter (where type = 'resolved') as n from ev where day < ${first})
    select to_char(d.day, 'YYYY-MM-DD') as date, coalesce(p.o, 0)::int as opened, coalesce(p.r, 0)::int as resolved,
           ((select n from before) + sum(coalesce(p.o, 0) - coalesce(p.r, 0)) over (order by d.day))::int as open
    from days d left join per_day p on p.day = d.day order by d.day`);
  return rows;
}

export interface ViolationFilter {
  environment?: string | undefined;
  control?: string | undefined;
  namespace?: string | undefined;
  state?: ViolationState | undefined;
  enforcementAction?: string | undefined;
  /** Opened (first or again) at or after. */
  since?: Date | undefined;
  /** Changed by the report collected at exactly this instant. */
  changedAt?: Date | undefined;
}

/** A page of the tenant's violations, newest opened first, below the cursor's row; limit + 1 rows (lib/cursor.ts keysetPage). */
export async function listViolations(
  tx: Db,
  tenantId: string,
  f: ViolationFilter,
  page: { after: { id: string } | undefined; limit: number },
): Promise<ViolationJson[]> {
  const where: SQL[] = [sql`v.tenant_id = ${tenantId}::uuid`];
  if (f.environment) where.push(sql`v.environment_id = ${f.environment}::uuid`);
  if (f.control) where.push(sql`v.control = ${f.control}`);
  if (f.namespace !== undefined) where.push(sql`v.namespace = ${f.namespace}`);
  if (f.state) where.push(sql`v.state = ${f.state}`);
  if (f.enforcementAction) where.push(sql`v.enforcement_action = ${f.enforcementAction}`);
  if (f.since) where.push(sql`v.opened_at >= ${f.since.toISOString()}::timestamptz`);
  if (f.changedAt) where.push(sql`v.changed_at = ${f.changedAt.toISOString()}::timestamptz`);
  if (page.after) {
    const { rows } = await tx.execute(sql`select 1 from violations where id = ${page.after.id}::uuid and tenant_id = ${tenantId}::uuid`);
    if (!rows.length) throw invalidCursor();
    where.push(olderThanCursor(violations, page.after, tenantId, { sortBy: violations.openedAt, as: "v" }));
  }
  const { rows } = await tx.execute<{ j: ViolationJson }>(
    sql`select ${violationJson} as j from violations v where ${sql.join(where, sql` and `)} order by v.opened_at desc, v.id desc limit ${page.limit + 1}`,
  );
  return rows.map((r) => r.j);
}

/** The violation with every opening and resolution, in order; 404 when it is not this tenant's. */
export async function getViolation(tx: Db, tenantId: string, id: string) {
  const { rows } = await tx.execute<{ j: ViolationJson }>(
    sql`select ${violationJson} as j from violations v where v.id = ${id}::uuid and v.tenant_id = ${tenantId}::uuid`,
  );
  if (!rows[0]) throw new ProblemError(404, `No violation ${id}.`);
  const events = await tx.execute<{ type: "opened" | "resolved"; at: string }>(
    sql`select type, ${isoJson("at")} as at from violation_events
        where violation_id = ${id}::uuid and tenant_id = ${tenantId}::uuid order by id`,
  );
  return { ...rows[0].j, history: events.rows };
}
