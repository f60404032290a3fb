// GET /agent/v1/desired-state: what the agent must make true in its cluster — the objects of its
// environment's current revision, rendered now, and how to behave (poll interval, field manager).
// The agent polls it; If-None-Match answers 304 while nothing changed. Each open draft adds its
// shadow constraints (dryrun, named preview-<draft>-<version>-, src/policies/shadow.ts): the agent applies
// and prunes them like every managed object, and Gatekeeper's audit of them is the draft's preview.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { hashEtag, notModified } from "../app/conditional.ts";
import type { AppEnv } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { environments, settingsRevisions } from "../db/schema.ts";
import { contentHash } from "../policies/hash.ts";
import { AGENT_PATHS, DesiredState as DesiredStateSchema, FIELD_MANAGER, type DesiredState } from "../protocol/agent.ts";
import { openDrafts } from "../services/drafts.ts";
import { renderedObjects } from "../services/render-cache.ts";
import { agentSecurity, agentTags, environmentGone } from "./agent-common.ts";

const route = createRoute({
  method: "get",
  path: AGENT_PATHS.desiredState,
  tags: agentTags,
  security: agentSecurity,
  summary: "The agent's desired state",
  description:
    "The environment of the calling agent credential: its current revision's Gatekeeper objects in apply order (exemption expiry evaluated at request time; revision 0 and no objects when it has no settings), plus every open draft's shadow constraints (enforcementAction dryrun, named `preview-<first 8 characters of the draft id>-<draft version>-<control>`, labelled gatehouse.dev/shadow-of-draft) and the templates they need, the poll interval and the server-side-apply field manager. ETag changes with the output; If-None-Match → 304. Agent credentials only.",
  // No parameters: the credential alone names the environment.
  request: { query: z.strictObject({}) },
  responses: {
    200: {
      description: "The desired state",
      headers: { ETag: { schema: { type: "string" } } },
      content: { "application/json": { schema: z.object(DesiredStateSchema.shape).openapi("DesiredState") } },
    },
    304: { description: "Unchanged since the ETag in If-None-Match" },
    ...problemResponses(400, 401, 404),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const a = c.get("agent");
    const now = c.get("now")();
    // The environment and, when it has settings, its current document; then its open drafts.
    const [row, drafts] = await c.get("db").withTenant(a.tenantId, async (tx) => {
      const [env] = await tx
        .select({ name: environments.name, revision: environments.currentRevision, document: settingsRevisions.document })
        .from(environments)
        .leftJoin(
          settingsRevisions,
          and(
            eq(settingsRevisions.tenantId, environments.tenantId),
            eq(settingsRevisions.environmentId, environments.id),
            eq(settingsRevisions.revision, environments.currentRevision),
          ),
        )
        .where(and(eq(environments.id, a.environmentId), eq(environments.tenantId, a.tenantId)));
      return [env, env ? await openDrafts(tx, a.tenantId, a.environmentId, now) : []] as const;
    });
    if (!row) throw environmentGone();
    const revision = row.revision > 0 && row.document !== null ? row.revision : 0;
    const rendered = renderedObjects(a.tenantId, a.environmentId, revision, row.document, now, drafts);
    const agent = { pollIntervalSeconds: c.get("config").agent.pollIntervalSeconds, fieldManager: FIELD_MANAGER };
    // The output depends on the clock (expired exemptions and drafts drop out), the name and the config,
    // not only on the revision: the ETag hashes all of it (the objects through their hash).
    const fingerprint = contentHash({ name: row.name, objects: rendered.hash, agent });
    if (notModified(c, hashEtag(String(revision), fingerprint))) return c.body(null, 304);
    const body: DesiredState = {
      environmentId: a.environmentId,
      environmentName: row.name,
      revision,
      objects: rendered.objects as DesiredState["objects"],
      agent,
    };
    return c.json(body, 200);
  });
}
