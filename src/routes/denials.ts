// The admission-denial history (src/services/denials.ts keeps it): every refusal, warning and
// dryrun record Gatekeeper's webhook made in an environment, and the API server's refusals of
// controllers' Pods through a generated ValidatingAdmissionPolicy, filed under the workload that asked
// (a Deployment whose ReplicaSet's Pods are refused is one row with a count), with the control,
// the message and who made the request. Viewer and above.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { ADMISSION_ACTIONS } from "../db/schema.ts";
import { SEVERITIES } from "../policies/severity.ts";
import { ADMISSION_SOURCES } from "../protocol/admission.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { denialSummary, denialWhere, environmentDenialSummary, getDenial, listDenials, SUMMARY_GROUPS } from "../services/denials.ts";
import { EnvParams } from "./settings-common.ts";

const tags = ["Denials"];
const Iso = z.iso.datetime();

const Ref = z.object({ kind: z.string(), name: z.string() });
export const DenialSchema = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    action: z.enum(ADMISSION_ACTIONS).openapi({ description: "deny: refused; warn: admitted with a warning; dryrun: admitted, recorded only." }),
    source: z.enum(ADMISSION_SOURCES).openapi({
      description:
        "Who refused, as of the latest event: webhook (Gatekeeper's admission webhook, from its admission Events) or apiserver (a ValidatingAdmissionPolicy Gatekeeper generated, from the FailedCreate Event of the controller whose Pod it refused).",
      example: "webhook",
    }),
    control: z
      .string()
      .nullable()
      .openapi({ description: "The Gatehouse control of the constraint (null for a constraint without one).", example: "privilegedContainers" }),
    severity: z.enum(SEVERITIES).nullable().openapi({
      description:
        "How much the control's findings matter (critical: the pod reaches the node; high: less confinement than the runtime default; medium: hardening); null without a control. Sort by it to see the worst first.",
      example: "critical",
    }),
    constraint: Ref,
    namespace: z.string(),
    workload: Ref.openapi({ description: "The top-level workload the agent resolved (Deployment, CronJob, …), or the object itself when it has no owner." }),
    object: Ref.openapi({ description: "The object last judged. A Pod's name is the one the API server generated: the Pod was never created when refused." }),
    username: z.string().openapi({
      description: "Who made the request: a person, or a controller's ServiceAccount.",
      example: "system:serviceaccount:kube-system:replicaset-controller",
    }),
    message: z.string().openapi({ description: "The policy's message, from the latest event (Gatekeeper's, or the API server's after \"denied request: \")." }),
    count: z.int().openapi({ description: "How many times admission judged so (Kubernetes' Event counts added up)." }),
    firstSeenAt: Iso,
    lastSeenAt: Iso,
  })
  .openapi("Denial");

const Filters = {
  environment: z.uuid().optional().openapi({ description: "Only this environment's denials." }),
  control: z.string().min(1).max(100).optional().openapi({ example: "privilegedContainers" }),
  namespace: z.string().max(253).optional(),
  workload: z.string().min(1).max(400).optional().openapi({ description: "`Kind/name` (e.g. `Deployment/web`) or a name of any kind." }),
  action: z.enum(ADMISSION_ACTIONS).optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Only denials last seen at or after this instant." }),
};
const ListQuery = PageQuery.extend(Filters);
const SummaryQuery = z.strictObject({ ...Filters, by: z.enum(SUMMARY_GROUPS).default("control") });
const EnvSummaryQuery = z.strictObject({ since: Filters.since, by: z.enum(SUMMARY_GROUPS).default("control") });
const Cursor = z.strictObject({ id: z.uuid() });
const IdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

const Summary = z
  .object({
    by: z.enum(SUMMARY_GROUPS),
    groups: z
      .array(
        z.object({
          key: z.string().openapi({ description: 'The control ("(none)" without one), the namespace, or namespace/Kind/name of the workload.' }),
          denials: z.int().openapi({ description: "Rows (distinct action, constraint, namespace, workload)." }),
          count: z.int().openapi({ description: "Admission decisions, all actions." }),
          byAction: z.object({ deny: z.int(), warn: z.int(), dryrun: z.int() }),
        }),
      )
      .openapi({ description: "Largest count first; at most 200." }),
  })
  .openapi("DenialSummary");

const page = z.object({ items: z.array(DenialSchema), nextCursor: z.string().nullable() }).openapi("DenialPage");

export const list = createRoute({
  method: "get",
  path: "/v1/denials",
  tags,
  summary: "List admission denials",
  description:
    "What Gatekeeper's webhook refused (and warned about, and recorded in dryrun), and what the API server refused through a generated ValidatingAdmissionPolicy when a controller created the Pod, across the tenant's environments, most recently seen first. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: ListQuery },
  responses: { 200: { description: "A page of denials", content: { "application/json": { schema: page } } }, ...problemResponses(400, 401, 403) },
});

export const summary = createRoute({
  method: "get",
  path: "/v1/denials/summary",
  tags,
  summary: "Admission denials by control, namespace or workload",
  description: "Counts of the denials that match the filters, grouped. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: SummaryQuery },
  responses: { 200: { description: "The summary", content: { "application/json": { schema: Summary } } }, ...problemResponses(400, 401, 403) },
});

export const get = createRoute({
  method: "get",
  path: "/v1/denials/{id}",
  tags,
  summary: "One admission denial",
  middleware: [requireRole("viewer")] as const,
  request: { params: IdParams },
  responses: { 200: { description: "The denial", content: { "application/json": { schema: DenialSchema } } }, ...problemResponses(400, 401, 403, 404) },
});

export const envSummary = createRoute({
  method: "get",
  path: "/v1/environments/{id}/denials/summary",
  tags,
  summary: "An environment's admission denials at a glance",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams, query: EnvSummaryQuery },
  responses: { 200: { description: "The summary", content: { "application/json": { schema: Summary } } }, ...problemResponses(400, 401, 403, 404) },
});

export function register(app: OpenAPIHono<V1Env>): void {
  // The fixed path first: it must not be read as a denial id.
  app.openapi(summary, async (c) => {
    const p = c.get("principal");
    const { by, ...filters } = c.req.valid("query");
    const groups = await c.get("db").withTenant(p.tenantId, (tx) => denialSummary(tx, denialWhere(p.tenantId, filters), by));
    return c.json({ by, groups }, 200);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const { limit, cursor, ...filters } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const where = denialWhere(p.tenantId, filters);
    const items = await c.get("db").withTenant(p.tenantId, (tx) => listDenials(tx, p.tenantId, where, { after, limit }));
    return c.json(
      keysetPage(items, limit, (last) => ({ id: last.id })),
      200,
    );
  });

  app.openapi(get, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => getDenial(tx, p.tenantId, id));
    return c.json(row, 200);
  });

  app.openapi(envSummary, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { by, since } = c.req.valid("query");
    const groups = await c.get("db").withTenant(p.tenantId, (tx) => environmentDenialSummary(tx, p.tenantId, id, { by, since }));
    return c.json({ by, groups }, 200);
  });
}
