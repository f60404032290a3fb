// /v1/environments: the clusters (or groups of clusters) a tenant governs. An environment is
// created together with its settings revision 1, so it always has a document to render. Each
// carries a summary of its agent (the last status report, joined in the same query).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq, gt, or, sql, type SQL } from "drizzle-orm";
import type { Context } from "hono";
import { requireRole } from "../app/auth.ts";
import type { AppEnv, Principal } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import { PG, pgErrorCode, type Db } from "../db/client.ts";
import { agentStatus, environments, type Environment as EnvironmentRow } from "../db/schema.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { applyPreset, EnvironmentSettings, fieldIssues, PRESET_NAMES } from "../policies/index.ts";
import type { AgentStatusReport } from "../protocol/agent.ts";
import { audit } from "../services/audit.ts";
import { enforceQuota } from "../services/quotas.ts";
import { forgetRevision } from "../services/revision-cache.ts";
import { appendRevision } from "../services/revisions.ts";
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
/** What the audit log records of an environment: its fields, not its (volatile) agent state. */
type EnvironmentFields = z.infer<typeof EnvironmentFields>;

export const Environment = EnvironmentFields.extend({
  agent: AgentSummary.openapi({ description: "Its agent at a glance; GET …/{id}/agent has the whole report." }),
}).openapi("Environment");
type EnvironmentJson = z.infer<typeof Environment>;

const EnvironmentIdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });

function toEnvironment(row: EnvironmentRow): EnvironmentFields {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    labels: row.labels,
    currentRevision: row.currentRevision,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

type AgentColumns = { lastSeenAt: Date | null; appliedRevision: number | null; gatekeeper: AgentStatusReport["gatekeeper"] | null } | null;

/** The environment as the API returns it: its fields and its agent's summary, as of now. */
function environmentJson(c: Context<AppEnv>, row: EnvironmentRow, agent: AgentColumns): EnvironmentJson {
  return { ...toEnvironment(row), agent: agentSummary(agent, row.currentRevision, c.get("now")(), c.get("config").agent.pollIntervalSeconds) };
}

/** Gatekeeper's part of the agent's last report (whether it is degraded), not the whole report. */
const agentGatekeeper = sql<AgentStatusReport["gatekeeper"] | null>`${agentStatus.report}->'gatekeeper'`;

/** Environments with their agent's last status in one query (a left join: most have none yet). */
function selectWithAgent(tx: Db) {
  return tx
    .select({ env: environments, agent: { lastSeenAt: agentStatus.lastSeenAt, appliedRevision: agentStatus.appliedRevision, gatekeeper: agentGatekeeper } })
    .from(environments)
    .leftJoin(agentStatus, and(eq(agentStatus.environmentId, environments.id), eq(agentStatus.tenantId, environments.tenantId)));
}

/** Runs a write; a unique violation (the tenant already has that name) becomes a 409. */
async function uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (pgErrorCode(err) === PG.uniqueViolation) throw new ProblemError(409, `An environment named "${name}" already exists in this tenant.`);
    throw err;
  }
}

const scoped = (p: Principal, id: string) => and(eq(environments.id, id), eq(environments.tenantId, p.tenantId));

async function findForUpdate(tx: Db, p: Principal, id: string): Promise<EnvironmentRow> {
  const [row] = await tx.select().from(environments).where(scoped(p, id)).for("update");
  if (!row) throw new ProblemError(404, `No environment ${id}.`);
  return row;
}

const CreateBody = z
  .strictObject({
    name: EnvironmentName,
    description: Description.default(""),
    labels: Labels.default({}),
    // Optional rather than .prefault({}) so the docs reference the EnvironmentSettings schema.
    settings: SettingsDocument.optional(),
    preset: z.enum(PRESET_NAMES).optional().openapi({ description: "Replaces settings.controls with a Pod Security Standards preset; environment-wide knobs are kept." }),
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

const createEnv = createRoute({
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

const listEnvs = createRoute({
  method: "get",
  path: "/v1/environments",
  tags,
  summary: "List environments",
  description: "By name. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { query: ListQuery },
  responses: { 200: { description: "A page of environments", ...json(EnvironmentPage) }, ...problemResponses(400, 401, 403) },
});

const getEnv = createRoute({
  method: "get",
  path: "/v1/environments/{id}",
  tags,
  summary: "Get an environment",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvironmentIdParams },
  responses: { 200: { description: "The environment", ...json(Environment) }, ...problemResponses(400, 401, 403, 404) },
});

const updateEnv = createRoute({
  method: "patch",
  path: "/v1/environments/{id}",
  tags,
  summary: "Rename, describe or relabel an environment",
  description: "Fields given replace the current ones (labels as a whole). Settings change through /settings. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvironmentIdParams, body: { ...json(UpdateBody), required: true } },
  responses: { 200: { description: "The updated environment", ...json(Environment) }, ...problemResponses(400, 401, 403, 404, 409, 413, 415) },
});

const deleteEnv = createRoute({
  method: "delete",
  path: "/v1/environments/{id}",
  tags,
  summary: "Delete an environment",
  description: "Deletes its settings history and agent credentials too. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvironmentIdParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
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
    const env = await uniqueName(body.name, () =>
      c.get("db").withTenant(p.tenantId, async (tx) => {
        await enforceQuota(tx, p.tenantId, "environments", c.get("config").quotas);
        const [row] = await tx
          .insert(environments)
          .values({ tenantId: p.tenantId, name: body.name, description: body.description, labels: body.labels })
          .returning();
        const appended = await appendRevision(tx, {
          tenantId: p.tenantId,
          environmentId: row!.id,
          expected: 0,
          document: parsed.data,
          author: p.subject,
          comment: body.comment,
        });
        if (!appended.ok) throw new Error(`revision 1 of a new environment refused: ${appended.reason}`);
        const created = { ...row!, currentRevision: appended.revision };
        await audit(tx, p, { action: "environment.create", targetType: "environment", targetId: row!.id, after: { ...toEnvironment(created), settings: parsed.data } });
        return environmentJson(c, created, null);
      }),
    );
    c.header("Location", `/v1/environments/${env.id}`);
    return c.json(env, 201);
  });

  app.openapi(listEnvs, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);
    const labels = q.label ?? [];
    const where: (SQL | undefined)[] = [eq(environments.tenantId, p.tenantId)];
    // jsonb containment; one object with every wanted pair means "all of them".
    if (labels.length) where.push(sql`${environments.labels} @> ${JSON.stringify(Object.fromEntries(labels))}::jsonb`);
    if (after) where.push(or(gt(environments.name, after.name), and(eq(environments.name, after.name), gt(environments.id, after.id))));
    const rows = await c.get("db").withTenant(p.tenantId, (tx) =>
      selectWithAgent(tx)
        .where(and(...where))
        .orderBy(asc(environments.name), asc(environments.id))
        .limit(q.limit + 1),
    );
    const { items, nextCursor } = keysetPage(rows, q.limit, (last) => ({ name: last.env.name, id: last.env.id }));
    return c.json({ items: items.map((r) => environmentJson(c, r.env, r.agent)), nextCursor }, 200);
  });

  app.openapi(getEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const [row] = await c.get("db").withTenant(p.tenantId, (tx) => selectWithAgent(tx).where(scoped(p, id)));
    if (!row) throw new ProblemError(404, `No environment ${id}.`);
    return c.json(environmentJson(c, row.env, row.agent), 200);
  });

  app.openapi(updateEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const env = await uniqueName(body.name, () =>
      c.get("db").withTenant(p.tenantId, async (tx) => {
        const before = toEnvironment(await findForUpdate(tx, p, id));
        const [row] = await tx
          .update(environments)
          .set({ ...body, updatedAt: sql`now()` })
          .where(scoped(p, id))
          .returning();
        const after = toEnvironment(row!);
        await audit(tx, p, { action: "environment.update", targetType: "environment", targetId: id, before, after });
        const [status] = await tx
          .select({ lastSeenAt: agentStatus.lastSeenAt, appliedRevision: agentStatus.appliedRevision, gatekeeper: agentGatekeeper })
          .from(agentStatus)
          .where(and(eq(agentStatus.environmentId, id), eq(agentStatus.tenantId, p.tenantId)));
        return environmentJson(c, row!, status ?? null);
      }),
    );
    return c.json(env, 200);
  });

  app.openapi(deleteEnv, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, async (tx) => {
      // Settings revisions and agent credentials go with it (ON DELETE CASCADE).
      const [row] = await tx.delete(environments).where(scoped(p, id)).returning();
      if (!row) throw new ProblemError(404, `No environment ${id}.`);
      await audit(tx, p, { action: "environment.delete", targetType: "environment", targetId: id, before: toEnvironment(row) });
    });
    forgetRevision(p.tenantId, id);
    return c.body(null, 204);
  });
}
