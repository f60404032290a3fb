// /v1/environments/{id}/rollouts: staged promotion of one control, dryrun → warn → deny. Each step
// is taken when the control's audit has been clean for a chosen time, at a chosen time, or by hand;
// the scheduler (Node: src/node.ts, Workers: the Cron Trigger) takes due steps as ordinary
// revisions. The work is in src/services/rollouts.ts; when a step is due, rollout-evidence.ts.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { advancePlan, cancelPlan, createPlan, getPlan, listPlans, type PlanView } from "../services/rollouts.ts";
import { EnvironmentId, EnvParams } from "./settings-common.ts";

/** The longest clean window a step may ask for (a year). */
export const MAX_CLEAN_SECONDS = 365 * 86_400;

const When = z
  .union([
    z.strictObject({
      cleanForSeconds: z.int().min(1).max(MAX_CLEAN_SECONDS).openapi({
        description:
          "Taken once the control's audit has shown no violation (and admission no warning or dryrun record of it) for this long, on fresh evidence. 604800 is 7 days; the floor is 1 s, but the evidence is only as fine as Gatekeeper's --audit-interval and the scheduler's ROLLOUT_INTERVAL_MS.",
        example: 604800,
      }),
    }),
    z.strictObject({
      at: z.iso.datetime({ offset: true }).openapi({ description: "Taken at (after) this time, whatever the audit shows.", example: "2030-01-08T09:00:00Z" }),
    }),
    z.strictObject({ manual: z.literal(true).openapi({ description: "Taken only by hand (POST …/advance)." }) }),
  ])
  .openapi("RolloutWhen");
const Step = z.strictObject({ to: z.enum(["warn", "deny"]), when: When }).openapi("RolloutStepRequest");
const CreateBody = z
  .strictObject({
    control: z.string().min(1).max(100).openapi({ example: "privilegedContainers" }),
    steps: z
      .array(Step)
      .min(1)
      .max(2)
      .openapi({
        description: "Each stricter than the one before, the first stricter than the control's current action.",
        example: [
          { to: "warn", when: { cleanForSeconds: 604800 } },
          { to: "deny", when: { cleanForSeconds: 604800 } },
        ],
      }),
    comment: z.string().max(500).optional(),
  })
  .openapi("RolloutPlanRequest");

const Iso = z.iso.datetime();
const StepJson = z
  .object({
    to: z.enum(["warn", "deny"]),
    when: When,
    takenAt: Iso.nullable(),
    revision: z.int().nullable().openapi({ description: "The revision the step made (null: not taken, or the control already was that strict)." }),
    by: z.string().nullable().openapi({ description: "gatehouse:rollout (the scheduler) or whoever advanced it by hand." }),
  })
  .openapi("RolloutStep");
const NextJson = z
  .object({
    step: z.int(),
    to: z.enum(["warn", "deny"]),
    due: z.boolean().openapi({ description: "The scheduler takes it on its next pass." }),
    waiting: z.array(z.string()).openapi({
      description: "Why it is not due: violations, missing evidence (agent offline, audit stale, revision not applied), the clean window still running.",
    }),
    cleanSince: Iso.nullable(),
    dueAt: Iso.nullable(),
    evidenceMissing: z.boolean(),
  })
  .openapi("RolloutNextStep");
const PlanJson = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    control: z.string(),
    state: z.enum(["active", "completed", "cancelled"]),
    currentAction: z
      .enum(["dryrun", "warn", "deny"])
      .nullable()
      .openapi({ description: "The control's action in the current revision; null when it is not enabled." }),
    steps: z.array(StepJson),
    next: NextJson.nullable().openapi({ description: "The next step, evaluated at this request; null once the plan is completed or cancelled." }),
    comment: z.string(),
    createdBy: z.string(),
    createdAt: Iso,
    updatedAt: Iso,
    checkedAt: Iso.nullable().openapi({ description: "The scheduler's last look at the plan." }),
  })
  .openapi("RolloutPlan");

export function planJson(v: PlanView): z.infer<typeof PlanJson> {
  const p = v.plan;
  return {
    id: p.id,
    environmentId: p.environmentId,
    control: p.control,
    state: p.state,
    currentAction: v.currentAction,
    steps: p.steps.map((s) => ({ to: s.to, when: s.when, takenAt: s.takenAt ?? null, revision: s.revision ?? null, by: s.by ?? null })),
    next: v.next,
    comment: p.comment,
    createdBy: p.createdBy,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    checkedAt: p.checkedAt?.toISOString() ?? null,
  };
}

const PlanParams = z.object({ id: EnvironmentId, planId: z.uuid().openapi({ description: "Rollout plan id" }) });
const base = "/v1/environments/{id}/rollouts";
const tags = ["Rollouts"];
const one = { description: "The plan", content: { "application/json": { schema: PlanJson } } };

export const createPlanRoute = createRoute({
  method: "post",
  path: base,
  tags,
  summary: "Plan a staged rollout of one control",
  description:
    "dryrun → warn → deny in steps, each taken when the control's audit has been clean for `cleanForSeconds`, at a time (`at`), or by hand (`manual`). The control must be enabled, below the first step's action, and have no other active plan (409). Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: EnvParams, body: { required: true, content: { "application/json": { schema: CreateBody } } } },
  responses: { 201: { ...one, headers: { Location: { schema: { type: "string" } } } }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
});
export const listRoute = createRoute({
  method: "get",
  path: base,
  tags,
  summary: "List rollout plans",
  description: "The environment's plans, newest first (at most 100), each with its next step evaluated now. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams },
  responses: {
    200: { description: "The plans", content: { "application/json": { schema: z.object({ items: z.array(PlanJson) }).openapi("RolloutPlanList") } } },
    ...problemResponses(400, 401, 403, 404),
  },
});
export const getRoute = createRoute({
  method: "get",
  path: `${base}/{planId}`,
  tags,
  summary: "Read a rollout plan",
  description: "Its steps, and whether the next is due — or why it waits. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: PlanParams },
  responses: { 200: one, ...problemResponses(400, 401, 403, 404) },
});
export const cancelRoute = createRoute({
  method: "post",
  path: `${base}/{planId}/cancel`,
  tags,
  summary: "Cancel a rollout plan",
  description: "No further step is taken; revisions already made stay. 409 when the plan is not active. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: PlanParams },
  responses: { 200: one, ...problemResponses(400, 401, 403, 404, 409) },
});
export const advanceRoute = createRoute({
  method: "post",
  path: `${base}/{planId}/advance`,
  tags,
  summary: "Take the next step now",
  description:
    "By hand, whatever the evidence says: the next step becomes a revision authored by the caller (audited as settings.rollout_step and rollout.step; webhook rollout.promoted). 409 when the plan is not active or the control is no longer enabled. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: PlanParams },
  responses: { 200: one, ...problemResponses(400, 401, 403, 404, 409) },
});

export function register(app: OpenAPIHono<V1Env>): void {
  const poll = (c: { get(k: "config"): V1Env["Variables"]["config"] }) => c.get("config").agent.pollIntervalSeconds;
  app.openapi(createPlanRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const v = await c.get("db").withTenant(p.tenantId, (tx) =>
      createPlan(tx, p, {
        environmentId: id,
        control: body.control,
        steps: body.steps,
        comment: body.comment,
        now: c.get("now")(),
        pollIntervalSeconds: poll(c),
      }),
    );
    c.header("location", `/v1/environments/${id}/rollouts/${v.plan.id}`);
    return c.json(planJson(v), 201);
  });
  app.openapi(listRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const items = await c.get("db").withTenant(p.tenantId, (tx) => listPlans(tx, p.tenantId, id, c.get("now")(), poll(c)));
    return c.json({ items: items.map(planJson) }, 200);
  });
  app.openapi(getRoute, async (c) => {
    const p = c.get("principal");
    const { id, planId } = c.req.valid("param");
    return c.json(planJson(await c.get("db").withTenant(p.tenantId, (tx) => getPlan(tx, p.tenantId, id, planId, c.get("now")(), poll(c)))), 200);
  });
  app.openapi(cancelRoute, async (c) => {
    const p = c.get("principal");
    const { id, planId } = c.req.valid("param");
    return c.json(planJson(await c.get("db").withTenant(p.tenantId, (tx) => cancelPlan(tx, p, id, planId, c.get("now")(), poll(c)))), 200);
  });
  app.openapi(advanceRoute, async (c) => {
    const p = c.get("principal");
    const { id, planId } = c.req.valid("param");
    return c.json(planJson(await c.get("db").withTenant(p.tenantId, (tx) => advancePlan(tx, p, id, planId, c.get("now")(), poll(c)))), 200);
  });
}
