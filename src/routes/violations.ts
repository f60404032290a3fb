// The violation history (src/services/violations.ts keeps it): every violation an environment's
// agent reported, open or resolved, with its openings and resolutions; the fleet's open counts,
// the share of compliant environments, and a daily trend. Viewer and above.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { sql, type SQL } from "drizzle-orm";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { VIOLATION_STATES } from "../db/schema.ts";
import { invalidCursor, keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { requireEnvironment } from "../services/environments.ts";
import { violationJson } from "../services/violations.ts";
import { isoJson } from "../services/webhook-outbox.ts";
import { EnvParams } from "./settings-common.ts";

const tags = ["Violations"];
const Iso = z.iso.datetime();

export const ViolationSchema = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    constraint: z.object({ kind: z.string(), name: z.string() }),
    control: z.string().nullable().openapi({ description: "The Gatehouse control of the constraint (null for a constraint without one)." }),
    enforcementAction: z.string().openapi({ example: "deny" }),
    resource: z.object({ group: z.string(), version: z.string(), kind: z.string(), namespace: z.string(), name: z.string() }),
    message: z.string(),
    state: z.enum(VIOLATION_STATES),
    firstSeenAt: Iso.openapi({ description: "collectedAt of the first report that listed it." }),
    openedAt: Iso.openapi({ description: "Start of the current (or last) occurrence." }),
    lastSeenAt: Iso.openapi({ description: "collectedAt of the last report that listed it." }),
    resolvedAt: Iso.nullable().openapi({ description: "collectedAt of the first complete report that no longer listed it; null while open." }),
    occurrences: z.int().openapi({ description: "How many times it was opened: a violation seen again after it was resolved reopens with the same id." }),
  })
  .openapi("Violation");

const ViolationEventSchema = z
  .object({ type: z.enum(["opened", "resolved"]), at: Iso.openapi({ description: "The collectedAt of the report that opened or resolved it." }) })
  .openapi("ViolationEvent");

const ListQuery = PageQuery.extend({
  environment: z.uuid().optional().openapi({ description: "Only this environment's violations." }),
  control: z.string().min(1).max(100).optional().openapi({ example: "privileged-containers" }),
  namespace: z.string().max(253).optional(),
  state: z.enum(VIOLATION_STATES).optional(),
  enforcementAction: z.string().min(1).max(100).optional().openapi({ example: "deny" }),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only violations opened (first or again) at or after this instant." }),
  changedAt: z.iso.datetime({ offset: true }).optional().openapi({
    description:
      "Only violations the audit report collected at this instant opened, resolved or updated (and no later report changed since): a violations.changed digest links here for what it did not list.",
  }),
});
const Cursor = z.strictObject({ id: z.uuid() });
const IdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

const Counts = z.record(z.string(), z.int());
const OpenCounts = z.object({
  open: z.int(),
  byControl: Counts.openapi({ description: 'Open violations per control (constraints without a control under "(none)").' }),
  byEnforcementAction: Counts,
});

const EnvironmentSummary = OpenCounts.extend({
  environmentId: z.uuid(),
  lastReportAt: Iso.nullable().openapi({ description: "collectedAt of the latest audit report; null before the first." }),
  compliant: z.boolean().nullable().openapi({ description: "A report and no open violation; null before the first report." }),
}).openapi("EnvironmentViolationSummary");

const TenantSummary = OpenCounts.extend({
  environments: z.object({
    total: z.int(),
    reporting: z.int().openapi({ description: "Environments whose agent has sent an audit report." }),
    compliant: z.int().openapi({ description: "Reporting environments with no open violation." }),
    compliantShare: z.number().nullable().openapi({ description: "compliant / reporting (0..1); null when none reports." }),
  }),
}).openapi("ViolationSummary");

const TrendQuery = z.strictObject({
  days: z.coerce.number().int().min(1).max(365).default(30),
  environment: z.uuid().optional(),
});
const Trend = z
  .object({
    days: z.array(
      z.object({
        date: z.string().openapi({ example: "2030-01-01", description: "A UTC day." }),
        opened: z.int().openapi({ description: "Violations opened (first or again) that day." }),
        resolved: z.int(),
        open: z.int().openapi({ description: "Violations open at the end of the day (now, for today)." }),
      }),
    ),
  })
  .openapi("ViolationTrend");

export const list = createRoute({
  method: "get",
  path: "/v1/violations",
  tags,
  summary: "List violations",
  description: "Every violation the tenant's agents reported, most recently opened first, with filters. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: ListQuery },
  responses: {
    200: {
      description: "A page of violations",
      content: { "application/json": { schema: z.object({ items: z.array(ViolationSchema), nextCursor: z.string().nullable() }).openapi("ViolationPage") } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const get = createRoute({
  method: "get",
  path: "/v1/violations/{id}",
  tags,
  summary: "One violation and its history",
  description: "The violation and every opening and resolution, oldest first. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: IdParams },
  responses: {
    200: {
      description: "The violation",
      content: { "application/json": { schema: ViolationSchema.extend({ history: z.array(ViolationEventSchema) }).openapi("ViolationDetail") } },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const envSummary = createRoute({
  method: "get",
  path: "/v1/environments/{id}/violations/summary",
  tags,
  summary: "An environment's open violations at a glance",
  description: "Open violations by control and by enforcement action. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams },
  responses: { 200: { description: "The summary", content: { "application/json": { schema: EnvironmentSummary } } }, ...problemResponses(400, 401, 403, 404) },
});

export const tenantSummary = createRoute({
  method: "get",
  path: "/v1/violations/summary",
  tags,
  summary: "The fleet's open violations at a glance",
  description:
    "Open violations of every environment by control and by enforcement action, and the share of compliant environments (those with an audit report and no open violation). Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: z.strictObject({}) },
  responses: { 200: { description: "The summary", content: { "application/json": { schema: TenantSummary } } }, ...problemResponses(400, 401, 403) },
});

export const trend = createRoute({
  method: "get",
  path: "/v1/violations/trend",
  tags,
  summary: "Daily opened, resolved and open violations",
  description:
    "For each of the last `days` UTC days up to today: violations opened and resolved that day (by report time) and open at its end. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: TrendQuery },
  responses: { 200: { description: "The trend, oldest day first", content: { "application/json": { schema: Trend } } }, ...problemResponses(400, 401, 403) },
});

async function openCounts(tx: Db, where: SQL) {
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

export function register(app: OpenAPIHono<V1Env>): void {
  // The fixed paths first: they must not be read as a violation id.
  app.openapi(tenantSummary, async (c) => {
    const p = c.get("principal");
    const body = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const counts = await openCounts(tx, sql`v.tenant_id = ${p.tenantId}::uuid`);
      const { rows } = await tx.execute<{ total: number; reporting: number; compliant: number }>(sql`
        select count(*)::int as total,
               count(r.environment_id)::int as reporting,
               count(r.environment_id) filter (where not exists (
                 select 1 from violations v where v.environment_id = e.id and v.tenant_id = e.tenant_id and v.state = 'open'))::int as compliant
        from environments e left join audit_reports r on r.environment_id = e.id and r.tenant_id = e.tenant_id
        where e.tenant_id = ${p.tenantId}::uuid`);
      const e = rows[0]!;
      return { ...counts, environments: { ...e, compliantShare: e.reporting ? e.compliant / e.reporting : null } };
    });
    return c.json(body, 200);
  });

  app.openapi(trend, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const now = c.get("now")();
    const envCond = q.environment ? sql`and ev.environment_id = ${q.environment}::uuid` : sql``;
    const rows = await c.get("db").withTenant(p.tenantId, async (tx) => {
      // Open at the end of a day = openings up to it minus resolutions up to it (each violation's
      // events alternate opened, resolved, …): the count before the window plus a running sum.
      const today = sql`(${now.toISOString()}::timestamptz at time zone 'UTC')::date`;
      const first = sql`(${today} - (${q.days}::int - 1))`;
      const { rows } = await tx.execute<{ date: string; opened: number; resolved: number; open: number }>(sql`
        with days as (select d::date as day from generate_series(${first}, ${today}, interval '1 day') d),
        ev as (
          select ev.type, (ev.at at time zone 'UTC')::date as day from violation_events ev
          where ev.tenant_id = ${p.tenantId}::uuid ${envCond} and ev.at < ((${today} + 1)::timestamp at time zone 'UTC')
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
    });
    return c.json({ days: rows }, 200);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);
    const where: SQL[] = [sql`v.tenant_id = ${p.tenantId}::uuid`];
    if (q.environment) where.push(sql`v.environment_id = ${q.environment}::uuid`);
    if (q.control) where.push(sql`v.control = ${q.control}`);
    if (q.namespace !== undefined) where.push(sql`v.namespace = ${q.namespace}`);
    if (q.state) where.push(sql`v.state = ${q.state}`);
    if (q.enforcementAction) where.push(sql`v.enforcement_action = ${q.enforcementAction}`);
    if (q.since) where.push(sql`v.opened_at >= ${new Date(q.since).toISOString()}::timestamptz`);
    if (q.changedAt) where.push(sql`v.changed_at = ${new Date(q.changedAt).toISOString()}::timestamptz`);
    const items = await c.get("db").withTenant(p.tenantId, async (tx) => {
      if (after) {
        const { rows } = await tx.execute(sql`select 1 from violations where id = ${after.id}::uuid and tenant_id = ${p.tenantId}::uuid`);
        if (!rows.length) throw invalidCursor();
        // Compared in SQL: timestamps have microseconds a JS Date would round away.
        where.push(sql`(v.opened_at, v.id) < (select w.opened_at, w.id from violations w where w.id = ${after.id}::uuid)`);
      }
      const { rows } = await tx.execute<{ j: z.infer<typeof ViolationSchema> }>(
        sql`select ${violationJson} as j from violations v where ${sql.join(where, sql` and `)} order by v.opened_at desc, v.id desc limit ${q.limit + 1}`,
      );
      return rows.map((r) => r.j);
    });
    return c.json(
      keysetPage(items, q.limit, (last) => ({ id: last.id })),
      200,
    );
  });

  app.openapi(get, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const { rows } = await tx.execute<{ j: z.infer<typeof ViolationSchema> }>(
        sql`select ${violationJson} as j from violations v where v.id = ${id}::uuid and v.tenant_id = ${p.tenantId}::uuid`,
      );
      if (!rows[0]) throw new ProblemError(404, `No violation ${id}.`);
      const events = await tx.execute<{ type: "opened" | "resolved"; at: string }>(
        sql`select type, ${isoJson("at")} as at from violation_events
            where violation_id = ${id}::uuid and tenant_id = ${p.tenantId}::uuid order by id`,
      );
      return { ...rows[0].j, history: events.rows };
    });
    return c.json(body, 200);
  });

  app.openapi(envSummary, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = await c.get("db").withTenant(p.tenantId, async (tx) => {
      await requireEnvironment(tx, p.tenantId, id);
      const counts = await openCounts(tx, sql`v.tenant_id = ${p.tenantId}::uuid and v.environment_id = ${id}::uuid`);
      const { rows } = await tx.execute<{ at: string | null }>(
        sql`select ${isoJson("collected_at")} as at from audit_reports where environment_id = ${id}::uuid and tenant_id = ${p.tenantId}::uuid`,
      );
      const lastReportAt = rows[0]?.at ?? null;
      return { environmentId: id, lastReportAt, compliant: lastReportAt === null ? null : counts.open === 0, ...counts };
    });
    return c.json(body, 200);
  });
}
