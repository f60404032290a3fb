// GET /v1/environments/{id}/agent-manifest: the agent's install manifest for an environment, ready
// for kubectl apply, WITHOUT the token Secret. The Secret is embedded only in the responses that
// create or rotate an agent credential (agent-credentials.ts), the one time the token exists.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { agentManifest } from "../install/agent-manifest.ts";
import { requireEnvironment } from "../services/environments.ts";
import { EnvParams } from "./settings-common.ts";

/** The API URL an agent is told to call: PUBLIC_URL when configured, else this request's origin. */
export function manifestApiUrl(c: Context<V1Env>): string {
  return c.get("config").publicUrl ?? new URL(c.req.url).origin;
}

export const route = createRoute({
  method: "get",
  path: "/v1/environments/{id}/agent-manifest",
  tags: ["Agent credentials"],
  summary: "The agent's install manifest for an environment",
  description:
    "Multi-document YAML for `kubectl apply -f`: namespace, RBAC and the agent Deployment pointed at this API (PUBLIC_URL, else the request's origin). It never contains the token Secret: that comes with the manifest in the response that creates or rotates an agent credential, or create it by hand as the header comment says. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvParams, query: z.strictObject({}) },
  responses: {
    200: {
      description: "The install manifest, without the token Secret",
      content: {
        "application/yaml": {
          schema: z.string().openapi({
            example: '# Gatehouse agent for environment "prod-eu". Requires Gatekeeper in the cluster.\n...\n---\napiVersion: v1\nkind: Namespace\n...',
          }),
        },
      },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const env = await c.get("db").withTenant(p.tenantId, (tx) => requireEnvironment(tx, p.tenantId, id));
    const yaml = agentManifest({ apiUrl: manifestApiUrl(c), environmentName: env.name });
    return c.body(yaml, 200, { "content-type": "application/yaml; charset=utf-8" });
  });
}
