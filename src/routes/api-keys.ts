// /v1/api-keys: the tenant's API keys (ghk_<prefix>_<secret>). Admin only. The full token is
// returned once (create, rotate); only sha256(secret) is stored, and neither the token nor the
// hash ever appears in a list or in the audit log.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { hasRole, requireRole } from "../app/auth.ts";
import { generateCredential } from "../app/credentials.ts";
import { ROLES, type V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { apiKeys, type ApiKey as ApiKeyRow } from "../db/schema.ts";
import { invalidCursor, keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { plainText } from "../lib/text-schema.ts";
import { audit } from "../services/audit.ts";
import { enforceQuota } from "../services/quotas.ts";

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
/** What lists show and what the audit log records: no secret, no hash. */
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
const auditView = (k: ApiKeyRow) => ({ name: k.name, role: k.role, prefix: k.prefix, revokedAt: iso(k.revokedAt) });

async function findKey(tx: Db, tenantId: string, id: string): Promise<ApiKeyRow | undefined> {
  return (
    await tx
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, tenantId)))
  )[0];
}

const notFound = () => new ProblemError(404, "No such API key.");

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(create, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    // Unreachable while the route requires admin; kept so lowering the minimum stays safe.
    if (!hasRole(p, body.role)) throw new ProblemError(403, `A ${p.role} cannot create a key with the ${body.role} role.`);
    const cred = generateCredential("ghk");
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      await enforceQuota(tx, p.tenantId, "apiKeys", c.get("config").quotas);
      const [k] = await tx
        .insert(apiKeys)
        .values({ tenantId: p.tenantId, name: body.name, role: body.role, prefix: cred.prefix, secretHash: cred.secretHash, createdBy: p.subject })
        .returning();
      await audit(tx, p, { action: "api_key.create", targetType: "api_key", targetId: k!.id, after: auditView(k!) });
      return k!;
    });
    return c.json({ id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(), secret: cred.token }, 201);
  });

  app.openapi(list, async (c) => {
    const p = c.get("principal");
    const { limit, cursor } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const where = [eq(apiKeys.tenantId, p.tenantId)];
      if (after) {
        if (!(await findKey(tx, p.tenantId, after.id))) throw invalidCursor();
        // Compared in SQL: created_at has microseconds a JS Date would round away.
        where.push(
          sql`(${apiKeys.createdAt}, ${apiKeys.id}) < (select k.created_at, k.id from api_keys k where k.id = ${after.id} and k.tenant_id = ${p.tenantId})`,
        );
      }
      return tx
        .select()
        .from(apiKeys)
        .where(and(...where))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
        .limit(limit + 1);
    });
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(publicView), nextCursor }, 200);
  });

  app.openapi(revoke, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, async (tx) => {
      const before = await findKey(tx, p.tenantId, id);
      if (!before) throw notFound();
      // Conditional update: of two concurrent revokes, one records it, the other is the no-op.
      const [after] = await tx
        .update(apiKeys)
        .set({ revokedAt: c.get("now")() })
        .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, p.tenantId), isNull(apiKeys.revokedAt)))
        .returning();
      if (after) await audit(tx, p, { action: "api_key.revoke", targetType: "api_key", targetId: id, before: auditView(before), after: auditView(after) });
    });
    return c.body(null, 204);
  });

  app.openapi(rotate, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const result = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const before = await findKey(tx, p.tenantId, id);
      if (!before) throw notFound();
      if (before.revokedAt) throw new ProblemError(409, "A revoked API key cannot be rotated; create a new one.");
      // Same prefix: the key keeps its identity (and its audit actor); only the secret changes.
      const cred = generateCredential("ghk", before.prefix);
      const [after] = await tx
        .update(apiKeys)
        .set({ secretHash: cred.secretHash })
        .where(and(eq(apiKeys.id, id), eq(apiKeys.tenantId, p.tenantId), isNull(apiKeys.revokedAt)))
        .returning();
      if (!after) throw new ProblemError(409, "A revoked API key cannot be rotated; create a new one.");
      await audit(tx, p, {
        action: "api_key.rotate",
        targetType: "api_key",
        targetId: id,
        before: auditView(before),
        after: { ...auditView(after), secretRotatedAt: c.get("now")().toISOString() },
      });
      return { row: after, token: cred.token };
    });
    const { row, token } = result;
    return c.json({ id: row.id, name: row.name, role: row.role, prefix: row.prefix, createdAt: row.createdAt.toISOString(), secret: token }, 200);
  });
}
