// /v1/environments: the clusters (or groups of clusters) a tenant governs. An environment is
// created together with its settings revision 1, so it always has a document to render. Each
// carries a summary of its agent (the last status report, joined in the same query). The queries
// and transactions are in src/services/environments.ts.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { applyPreset, EnvironmentSettings, fieldIssues, PRESET_NAMES } from "../policies/index.ts";
import {
  createEnvironment,
  deleteEnvironment,
  environmentFields,
  getEnvironment,
  listEnvironments,
  updateEnvironment,
  type EnvironmentWithAgent,
} from "../services/environments.ts";
import { agentSummary, AgentSummary } from "./agent-common.ts";
import { SettingsDocument } from "./settings-common.ts";

const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const MAX_LABELS = 32;

/** Kubernetes label key: `[prefix/]name`, prefix a DNS subdomain ≤ 253, name ≤ 63. */
function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  if (slash === -1) return LABEL_NAME.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && LABEL_NAME.test(key.slice(slash + 1));
}

const EnvironmentName = z
  .string()
  .regex(DNS_LABEL, "must be a DNS-1123 label: 1-63 lowercase letters, digits or '-', starting and ending alphanumeric")
  .openapi("EnvironmentName", { example: "prod-eu" });
const LabelKey = z.string().refine(isLabelKey, "must be a Kubernetes label key: [prefix/]name, name ≤ 63 characters of [A-Za-z0-9-_.]");
const LabelValue = z
  .string()
  .max(63)
  .refine((v) => v === "" || LABEL_NAME.test(v), "must be a Kubernetes label value: ≤ 63 characters of [A-Za-z0-9-_.], alphanumeric at both ends");
const Labels = z
  .record(LabelKey, LabelValue)
  .refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`)
  .openapi("Labels", { example: { region: "eu", tier: "prod" } });
const Description = z.string().max(500);

const EnvironmentFields = z.object({
  id: z.uuid(),
  name: EnvironmentName,
  description: z.string(),
  labels: z.record(z.string(), z.string()),
  currentRevision: z.int().openapi({ description: "The settings revision in force (the settings ETag)." }),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export const Environment = EnvironmentFields.extend({
  agent: AgentSummary.openapi({ description: "Its agent at a glance; GET …/{id}/agent has the whole report." }),
}).openapi("Environment");
type EnvironmentJson = z.infer<typeof Environment>;

const EnvironmentIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

/** The environment as the API returns it: its fields and its agent's summary, as of now. */
function environmentJson(c: Context<V1Env>, { env, agent }: EnvironmentWithAgent): EnvironmentJson {
  return { ...environmentFields(env), agent: agentSummary(agent, env.currentRevision, c.get("now")(), c.get("config").agent.pollIntervalSeconds) };
}

const CreateBody = z
  .strictObject({
    name: EnvironmentName,
    description: Description.default(""),
    labels: Labels.default({}),
    // Optional rather than .prefault({}) so the docs reference the EnvironmentSettings schema.
    settings: SettingsDocument.optional(),
    preset: z
      .enum(PRESET_NAMES)
      .optional()
      .openapi({ description: "Replaces settings.controls with a Pod Security Standards preset; environment-wide knobs are kept." }),
    comment: Description.default("").openapi({ description: "Recorded on revision 1." }),
  })
  .openapi("EnvironmentCreate");

const UpdateBody = z
  .strictObject({ name: EnvironmentName.optional(), description: Description.optional(), labels: Labels.optional() })
  .refine((b) => Object.keys(b).length > 0, "give at least one of name, description, labels")
  .openapi("EnvironmentUpdate");

const LabelFilter = z.string().transform((s, ctx) => {
  const eqAt = s.indexOf("=");
  const [key, value] = eqAt === -1 ? [s, ""] : [s.slice(0, eqAt), s.slice(eqAt + 1)];
  if (eqAt === -1 || !isLabelKey(key) || !LabelValue.safeParse(value).success) {
    ctx.addIssue({ code: "custom", message: "must be key=value with a Kubernetes label key and value" });
    return z.NEVER;
  }
  return [key, value] as const;
});
const ListQuery = PageQuery.extend({
  // One ?label= arrives as a string, several as an array.
  label: z
    .preprocess((v) => (typeof v === "string" ? [v] : v), z.array(LabelFilter).max(MAX_LABELS))
    .optional()
    .openapi({ description: "key=value; repeat to require several labels.", example: ["tier=prod"] }),
});
const Cursor = z.strictObject({ name: z.string(), id: z.uuid() });

const EnvironmentPage = z.object({ items: z.array(Environment), nextCursor: z.string().nullable() }).openapi("EnvironmentPage");

const tags = ["Environments"];
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });

export const createEnv = createRoute({
  method: "post",
  path: "/v1/environments",
  tags,
  summary: "Create an environment",
  description: "Creates the environment with settings revision 1 (the given document, after the preset if any). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { body: { ...json(CreateBody), required: true } },
  responses: {
    201: { description: "Created; Location names it", ...json(Environment) },
    ...problemResponses(400, 401, 403, 409, 413, 415),
  },
});

export const listEnvs = createRoute({
  method: "get",
  path: "/v1/environments",
  tags,
  summary: "List environments",
  description: "By name. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: ListQuery },
  responses: { 200: { description: "A page of environments", ...json(EnvironmentPage) }, ...problemResponses(400, 401, 403) },
});

export const getEnv = createRoute({
  method: "get",
  path: "/v1/environments/{id}",
  tags,
  summary: "Get an environment",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvironmentIdParams },
  responses: { 200: { description: "The environment", ...json(Environment) }, ...problemResponses(400, 401, 403, 404) },
});

export const updateEnv = createRoute({
  method: "patch",
  path: "/v1/environments/{id}",
  tags,
  summary: "Rename, describe or relabel an environment",
  description: "Fields given replace the current ones (labels as a whole). Settings change through /settings. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvironmentIdParams, body: { ...json(UpdateBody), required: true } },
  responses: { 200: { description: "The updated environment", ...json(Environment) }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
});

export const deleteEnv = createRoute({
  method: "delete",
  path: "/v1/environments/{id}",
  tags,
  summary: "Delete an environment",
  description: "Deletes its settings history and agent credentials too. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvironmentIdParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(createEnv, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    // The preset is applied to the validated document, so validate the result again.
    const settings = body.settings ?? {};
    const parsed = EnvironmentSettings.safeParse(body.preset ? applyPreset(settings, body.preset) : settings);
    if (!parsed.success) {
      const errors = fieldIssues(parsed.error).map((i) => ({ ...i, path: `settings.${i.path}` }));
      throw new ProblemError(400, "The settings document is invalid.", { errors });
    }
    const { name, description, labels, comment } = body;
    const created = await c
      .get("db")
      .withTenant(p.tenantId, (tx) => createEnvironment(tx, p, { name, description, labels, settings: parsed.data, comment }, c.get("config").quotas));
    c.header("Location", `/v1/environments/${created.id}`);
    return c.json(environmentJson(c, { env: created, agent: null }), 201);
  });

  app.openapi(listEnvs, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listEnvironments(tx, p.tenantId, { labels: q.label ?? [], after, limit: q.limit }));
    const { items, nextCursor } = keysetPage(rows, q.limit, (last) => ({ name: last.env.name, id: last.env.id }));
    return c.json({ items: items.map((r) => environmentJson(c, r)), nextCursor }, 200);
  });

  app.openapi(getEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => getEnvironment(tx, p.tenantId, id));
    return c.json(environmentJson(c, row), 200);
  });

  app.openapi(updateEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => updateEnvironment(tx, p, id, body));
    return c.json(environmentJson(c, row), 200);
  });

  app.openapi(deleteEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, (tx) => deleteEnvironment(tx, p, id));
    return c.body(null, 204);
  });
}
