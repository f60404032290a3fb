// /v1/api-keys: the tenant's API keys (ghk_<prefix>_<secret>). Admin only. The full token is
// returned once (create, rotate); only sha256(secret) is stored, and neither the token nor the
// hash ever appears in a list or in the audit log. The queries and transactions are services/api-keys.ts's.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { hasRole, requireRole } from "../app/auth.ts";
import { ROLES, type V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import type { ApiKey as ApiKeyRow } from "../db/schema.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { plainText } from "../lib/text-schema.ts";
import { createApiKey, listApiKeys, revokeApiKey, rotateApiKey } from "../services/api-keys.ts";

const Role = z.enum(ROLES).openapi("Role");

const ApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: Role,
    prefix: z.string().openapi({ description: "Public lookup id: the token is ghk_<prefix>_<secret>. Also the audit actor (apikey:<prefix>)." }),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    lastUsedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .openapi("ApiKey");

const NewApiKey = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: Role,
    prefix: z.string(),
    createdAt: z.iso.datetime(),
    secret: z.string().openapi({ description: "The complete bearer token. Shown once: it cannot be read again.", example: "ghk_0123456789abcdef_…" }),
  })
  .openapi("NewApiKey");

const CreateApiKey = z
  .strictObject({
    // No control characters: names end up in logs and terminals.
    name: plainText(100).min(1),
    role: Role.openapi({ description: "At most the caller's own role." }),
  })
  .openapi("CreateApiKey");

const IdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });
const Cursor = z.strictObject({ id: z.uuid() });

const tags = ["API keys"];

export const create = createRoute({
  method: "post",
  path: "/v1/api-keys",
  tags,
  summary: "Create an API key",
  description: "Creates a key with a role no higher than the caller's. The response carries the secret, once. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKey } } } },
  responses: {
    201: { description: "The new key and its secret", content: { "application/json": { schema: NewApiKey } } },
    ...problemResponses(400, 401, 403, 409, 413, 415),
  },
});

export const list = createRoute({
  method: "get",
  path: "/v1/api-keys",
  tags,
  summary: "List API keys",
  description: "Every key of the tenant, revoked ones included, newest first. Never the secrets. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { query: PageQuery },
  responses: {
    200: {
      description: "A page of keys",
      content: { "application/json": { schema: z.object({ items: z.array(ApiKey), nextCursor: z.string().nullable() }).openapi("ApiKeyPage") } },
    },
    ...problemResponses(400, 401, 403),
  },
});

export const revoke = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  tags,
  summary: "Revoke an API key",
  description: "The key stops authenticating at once. Revoking a revoked key is a no-op (204, no new audit entry). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: IdParams },
  responses: { 204: { description: "Revoked" }, ...problemResponses(400, 401, 403, 404) },
});

export const rotate = createRoute({
  method: "post",
  path: "/v1/api-keys/{id}/rotate",
  tags,
  summary: "Rotate an API key's secret",
  description:
    "Same id, prefix, name and role; a new secret, shown once. The old secret stops working at once. A revoked key cannot be rotated (409). Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { params: IdParams },
  responses: {
    200: { description: "The key and its new secret", content: { "application/json": { schema: NewApiKey } } },
    ...problemResponses(400, 401, 403, 404, 409),
  },
});

const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** What lists show: no secret, no hash. */
const publicView = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  prefix: k.prefix,
  createdBy: k.createdBy,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(create, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    // Unreachable while the route requires admin; kept so lowering the minimum stays safe.
    if (!hasRole(p, body.role)) throw new ProblemError(403, `A ${p.role} cannot create a key with the ${body.role} role.`);
    const { row, token } = await c.get("db").withTenant(p.tenantId, (tx) => createApiKey(tx, p, body, c.get("config").quotas));
    return c.json({ id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(), secret: token }, 201);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const { limit, cursor } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listApiKeys(tx, p.tenantId, { after, limit }));
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(publicView), nextCursor }, 200);
  });

  app.openapi(revoke, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, (tx) => revokeApiKey(tx, p, id, c.get("now")()));
    return c.body(null, 204);
  });

  app.openapi(rotate, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { row, token } = await c.get("db").withTenant(p.tenantId, (tx) => rotateApiKey(tx, p, id, c.get("now")()));
    return c.json({ id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(), secret: token }, 200);
  });
}
