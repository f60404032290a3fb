// GET /agent/v1/desired-state: what the agent must make true in its cluster — the objects of its
// environment's current revision, rendered now, and how to behave (poll interval, field manager).
// The agent polls it; If-None-Match answers 304 while nothing changed. Each open draft adds its
// shadow constraints (dryrun, named preview-<draft>-<version>-, src/policies/shadow.ts): the agent applies
// and prunes them like every managed object, and Gatekeeper's audit of them is the draft's preview.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { hashEtag, notModified } from "../app/conditional.ts";
import type { AgentEnv } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { contentHash } from "../policies/hash.ts";
import { AGENT_PATHS, DesiredState as DesiredStateSchema, FIELD_MANAGER, type DesiredState } from "../protocol/agent.ts";
import { renderedObjects, type RenderedObjects } from "../services/render-cache.ts";
import { agentSecurity, agentTags } from "./agent-common.ts";

export const route = createRoute({
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

// The ETag of a rendering for a name and agent settings, kept with the rendering (a render-cache
// entry lives as long as its objects are right): a 304 costs a comparison, not a hash.
const etags = new WeakMap<RenderedObjects, { key: string; etag: string }>();

function etagOf(revision: number, name: string, rendered: RenderedObjects, agent: DesiredState["agent"]): string {
  const key = `${revision}|${agent.pollIntervalSeconds}|${agent.fieldManager}|${name}`;
  const memo = etags.get(rendered);
  if (memo?.key === key) return memo.etag;
  // The output depends on the clock (expired exemptions and drafts drop out), the name and the config,
  // not only on the revision: the ETag hashes all of it (the objects through their hash).
  const fingerprint = contentHash({ name, objects: rendered.hash, agent });
  const etag = hashEtag(String(revision), fingerprint);
  etags.set(rendered, { key, etag });
  return etag;
}

export function register(app: OpenAPIHono<AgentEnv>): void {
  app.openapi(route, async (c) => {
    const a = c.get("agent");
    const now = c.get("now")();
    // Read with the credential, in the same statement or from the same cache (agent-auth.ts).
    const s = a.state;
    const revision = s.revision > 0 && s.document !== null ? s.revision : 0;
    const rendered = renderedObjects(a.tenantId, a.environmentId, revision, s.document, now, s.drafts);
    const agent = { pollIntervalSeconds: c.get("config").agent.pollIntervalSeconds, fieldManager: FIELD_MANAGER };
    const etag = etagOf(revision, s.environmentName, rendered, agent);
    if (notModified(c, etag)) return c.body(null, 304);
    const body: DesiredState = {
      environmentId: a.environmentId,
      environmentName: s.environmentName,
      revision,
      objects: rendered.objects as DesiredState["objects"],
      agent,
    };
    return c.json(body, 200);
  });
}
