// The violation history (services/violations.ts keeps it, services/violation-queries.ts reads
// it): every violation an environment's agent reported, open or resolved, with its openings and
// resolutions; the fleet's open counts, the share of compliant environments, and a daily trend.
// Viewer and above.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { VIOLATION_STATES } from "../db/schema.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { environmentViolationSummary, getViolation, listViolations, tenantViolationSummary, violationTrend } from "../services/violation-queries.ts";
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

export function register(app: OpenAPIHono<V1Env>): void {
  // The fixed paths first: they must not be read as a violation id.
  app.openapi(tenantSummary, async (c) => {
    const p = c.get("principal");
    return c.json(await c.get("db").withTenant(p.tenantId, (tx) => tenantViolationSummary(tx, p.tenantId)), 200);
  });

  app.openapi(trend, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => violationTrend(tx, p.tenantId, { ...q, now: c.get("now")() }));
    return c.json({ days: rows }, 200);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);
    const filter = { ...q, since: q.since ? new Date(q.since) : undefined, changedAt: q.changedAt ? new Date(q.changedAt) : undefined };
    const items = await c.get("db").withTenant(p.tenantId, (tx) => listViolations(tx, p.tenantId, filter, { after, limit: q.limit }));
    return c.json(
      keysetPage(items, q.limit, (last) => ({ id: last.id })),
      200,
    );
  });

  app.openapi(get, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    return c.json(await c.get("db").withTenant(p.tenantId, (tx) => getViolation(tx, p.tenantId, id)), 200);
  });

  app.openapi(envSummary, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    return c.json(await c.get("db").withTenant(p.tenantId, (tx) => environmentViolationSummary(tx, p.tenantId, id)), 200);
  });
}
