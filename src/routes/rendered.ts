// What the agent would apply for an environment's CURRENT revision, rendered now: the objects in
// apply order and the summary a person reads before enforcing. JSON or YAML (kubectl-ready).
// `?draft=` renders an open draft instead: what the agent would apply once it is promoted.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { accepts } from "hono/accepts";
import { requireRole } from "../app/auth.ts";
import { hashEtag, notModified } from "../app/conditional.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { contentHash } from "../policies/hash.ts";
import { EnvironmentSettings, renderEnvironment, toYaml } from "../policies/index.ts";
import { settingsToRender } from "../services/revision-history.ts";
import { EnvParams } from "./settings-common.ts";

const FORMATS = ["json", "yaml"] as const;
// JSON first: the default, and the choice when Accept ranks both alike.
const MEDIA_TYPES = ["application/json", "application/yaml", "application/x-yaml", "text/yaml"];

const RenderedQuery = z.strictObject({
  format: z.enum(FORMATS).optional().openapi({ description: "Overrides the Accept header. Default json." }),
  draft: z.uuid().optional().openapi({ description: "Render this open draft of the environment instead of the current revision (410 once expired)." }),
});

const Rendered = z
  .object({
    revision: z.int().min(0).openapi({ description: "The revision rendered; with ?draft=, the revision the draft is based on." }),
    draft: z.uuid().optional(),
    objects: z
      .array(z.record(z.string(), z.unknown()))
      .openapi({ description: "Kubernetes objects in apply order: templates, constraints, expansion templates." }),
    summary: z.array(z.string()),
  })
  .openapi("RenderedEnvironment");

export const route = createRoute({
  method: "get",
  path: "/v1/environments/{id}/rendered",
  tags: ["Settings"],
  summary: "Render the current settings",
  description:
    "Exactly the objects the agent would apply for the current revision, with exemption expiry evaluated at request time. `?format=yaml` or `Accept: application/yaml` gives multi-document YAML with the summary as leading comments. ETag changes with the output (also when an exemption expires); If-None-Match → 304. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams, query: RenderedQuery },
  responses: {
    200: {
      description: "The rendered objects",
      headers: { ETag: { schema: { type: "string" } } },
      content: {
        "application/json": { schema: Rendered },
        "application/yaml": {
          schema: z.string().openapi({ example: "# revision 3\n# 12 of 17 controls enabled\n---\napiVersion: templates.gatekeeper.sh/v1\n..." }),
        },
      },
    },
    304: { description: "Unchanged since the ETag in If-None-Match" },
    ...problemResponses(400, 401, 403, 404, 410),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const query = c.req.valid("query");
    // ?format wins; else Hono's negotiation of Accept (by q, then specificity); else JSON.
    const format =
      query.format ?? (accepts(c, { header: "Accept", supports: MEDIA_TYPES, default: "application/json" }) === "application/json" ? "json" : "yaml");
    const now = c.get("now")();
    const current = await c.get("db").withTenant(p.tenantId, (tx) => settingsToRender(tx, p.tenantId, id, { draft: query.draft, now }));
    const { objects, summary } = renderEnvironment(EnvironmentSettings.parse(current.document), now);
    const draft = current.draft;
    // The output depends on the clock too (expired exemptions drop out), so the ETag hashes the
    // output rather than naming the revision; each format is its own representation.
    const label = `${draft ? `draft-${draft}-` : ""}${current.revision}`;
    c.header("vary", "Accept");
    if (notModified(c, hashEtag(label, contentHash({ objects, summary }), format === "yaml" ? "-yaml" : ""))) return c.body(null, 304);
    if (format === "yaml") {
      const header = [draft ? `draft ${draft} (based on revision ${current.revision})` : `revision ${current.revision}`, ...summary]
        .map((l) => `# ${l}\n`)
        .join("");
      return c.body(header + toYaml(objects), 200, { "content-type": "application/yaml; charset=utf-8" });
    }
    return c.json({ revision: current.revision, ...(draft ? { draft } : {}), objects, summary }, 200);
  });
}
