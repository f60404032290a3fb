// /v1/environments/{id}/agent-credentials: the credentials an in-cluster agent uses to fetch its
// environment's policy (gha_<prefix>_<secret>). Admin only. Same scheme as API keys: the token is
// shown once, only sha256(secret) is stored, and the user API refuses gha_ tokens (auth.ts). The
// create and rotate responses also carry the install manifest with the token Secret in it: the
// only place the API ever embeds it (GET …/agent-manifest serves the same without the Secret).
// The queries and transactions are services/agent-credentials.ts's.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import type { AgentCredential as Row } from "../db/schema.ts";
import { agentManifest } from "../install/agent-manifest.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { createAgentCredential, listAgentCredentials, revokeAgentCredential, rotateAgentCredential } from "../services/agent-credentials.ts";
import { manifestApiUrl } from "./agent-manifest.ts";

const AgentCredential = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    prefix: z.string().openapi({ description: "Public lookup id: the token is gha_<prefix>_<secret>." }),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi("AgentCredential");

const NewAgentCredential = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    prefix: z.string(),
    createdAt: z.iso.datetime(),
    secret: z.string().openapi({ description: "The complete agent token. Shown once: it cannot be read again.", example: "gha_0123456789abcdef_…" }),
    manifest: z.string().openapi({
      description:
        "The agent's install manifest (multi-document YAML): kubectl apply -f this; contains the token Secret, shown once. GET /v1/environments/{id}/agent-manifest serves it without the Secret.",
      example: '# Gatehouse agent for environment "prod-eu". Requires Gatekeeper in the cluster.\n...\n---\napiVersion: v1\nkind: Secret\n...',
    }),
  })
  .openapi("NewAgentCredential");

const EnvParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" }, description: "Environment id" }) });
const CredParams = EnvParams.extend({ credId: z.uuid().openapi({ param: { name: "credId", in: "path" } }) });
const Cursor = z.strictObject({ id: z.uuid() });

const tags = ["Agent credentials"];
const base = "/v1/environments/{id}/agent-credentials";

export const create = createRoute({
  method: "post",
  path: base,
  tags,
  summary: "Create an agent credential",
  description:
    "A new credential for the environment's agent; the response carries the secret, once, and the install manifest with the secret in it. No body (or `{}`). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvParams, body: { required: false, content: { "application/json": { schema: z.strictObject({}).openapi("CreateAgentCredential") } } } },
  responses: {
    201: { description: "The new credential and its secret", content: { "application/json": { schema: NewAgentCredential } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

export const list = createRoute({
  method: "get",
  path: base,
  tags,
  summary: "List an environment's agent credentials",
  description: "Revoked ones included, newest first. Never the secrets. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: EnvParams, query: PageQuery },
  responses: {
    200: {
      description: "A page of credentials",
      content: {
        "application/json": { schema: z.object({ items: z.array(AgentCredential), nextCursor: z.string().nullable() }).openapi("AgentCredentialPage") },
      },
    },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const revoke = createRoute({
  method: "delete",
  path: `${base}/{credId}`,
  tags,
  summary: "Revoke an agent credential",
  description: "Revoking a revoked credential is a no-op (204, no new audit entry). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: CredParams },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404) },
});

export const rotate = createRoute({
  method: "post",
  path: `${base}/{credId}/rotate`,
  tags,
  summary: "Rotate an agent credential's secret",
  description:
    "Same id and prefix, a new secret shown once (with a new install manifest carrying it); the old one stops working at once. A revoked credential cannot be rotated (409). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: CredParams },
  responses: {
    200: { description: "The credential and its new secret", content: { "application/json": { schema: NewAgentCredential } } },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const publicView = (r: Row) => ({
  id: r.id,
  environmentId: r.environmentId,
  prefix: r.prefix,
  createdBy: r.createdBy,
  createdAt: r.createdAt.toISOString(),
  lastUsedAt: iso(r.lastUsedAt),
  revokedAt: iso(r.revokedAt),
});
const created = (r: Row, secret: string, manifest: string) => ({
  id: r.id,
  environmentId: r.environmentId,
  prefix: r.prefix,
  createdAt: r.createdAt.toISOString(),
  secret,
  manifest,
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(create, async (c) => {
    const p = c.get("principal");
    const { id: environmentId } = c.req.valid("param");
    const { row, token, environmentName } = await c
      .get("db")
      .withTenant(p.tenantId, (tx) => createAgentCredential(tx, p, environmentId, c.get("config").quotas));
    const manifest = agentManifest({ apiUrl: manifestApiUrl(c), token, environmentName });
    return c.json(created(row, token, manifest), 201);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const { id: environmentId } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listAgentCredentials(tx, p.tenantId, environmentId, { after, limit }));
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(publicView), nextCursor }, 200);
  });

  app.openapi(revoke, async (c) => {
    const p = c.get("principal");
    const { id: environmentId, credId } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, (tx) => revokeAgentCredential(tx, p, environmentId, credId, c.get("now")()));
    return c.body(null, 204);
  });

  app.openapi(rotate, async (c) => {
    const p = c.get("principal");
    const { id: environmentId, credId } = c.req.valid("param");
    const result = await c.get("db").withTenant(p.tenantId, (tx) => rotateAgentCredential(tx, p, environmentId, credId, c.get("now")()));
    const manifest = agentManifest({ apiUrl: manifestApiUrl(c), token: result.token, environmentName: result.environmentName });
    return c.json(created(result.row, result.token, manifest), 200);
  });
}
