// GET /v1/audit-log: who changed what, newest first. Admin only, not viewer: entries carry whole
// before/after documents (settings with their exemptions, API key names, roles and prefixes,
// agent credential prefixes), which is more than the viewer role is meant to read; and a
// security log is for those who manage access. Secrets never reach the log (see api-keys.ts).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { auditLog } from "../db/schema.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { diff, type Change } from "../lib/json-diff.ts";

const ChangeSchema = z.object({ path: z.string(), before: z.unknown().optional(), after: z.unknown().optional() }).openapi("Change");

const AuditEntry = z
  .object({
    id: z.number().int().openapi({ description: "Increasing: a later entry has a larger id." }),
    actor: z.string().openapi({ description: "JWT subject, or apikey:<prefix> for API keys.", example: "alice@example.com" }),
    action: z.string().openapi({ example: "settings.update" }),
    targetType: z.string().openapi({ example: "environment" }),
    targetId: z.string().nullable(),
    before: z.unknown().nullable(),
    after: z.unknown().nullable(),
    changes: z.array(ChangeSchema).openapi({ description: "The paths that differ between before and after (a create or delete lists every field)." }),
    createdAt: z.iso.datetime(),
  })
  .openapi("AuditEntry");

const Query = PageQuery.extend({
  action: z
    .string()
    .min(1)
    .max(100)
    .regex(/^[^*]*\*?$/, "'*' may only end the filter")
    .optional()
    .openapi({ description: "Exact action, or a prefix ending in '*' (e.g. settings.*).", example: "api_key.*" }),
  actor: z.string().min(1).max(255).optional(),
  targetType: z.string().min(1).max(100).optional(),
  targetId: z.string().min(1).max(255).optional(),
  since: z.iso.datetime({ offset: true }).optional().openapi({ description: "Entries at or after this instant (inclusive)." }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: "Entries before this instant (exclusive)." }),
}).superRefine((q, ctx) => {
  if (q.since && q.until && Date.parse(q.since) > Date.parse(q.until)) {
    ctx.addIssue({ code: "custom", path: ["until"], message: "must not be before since" });
  }
});

const Cursor = z.strictObject({ id: z.number().int().positive() });

export const route = createRoute({
  method: "get",
  path: "/v1/audit-log",
  tags: ["Audit log"],
  summary: "The tenant's audit log",
  description: "Every change made in the tenant, newest first, with the documents before and after and their differences. Requires admin.",
  middleware: [requireRole("admin")] as const,
  request: { query: Query },
  responses: {
    200: {
      description: "A page of entries",
      content: { "application/json": { schema: z.object({ items: z.array(AuditEntry), nextCursor: z.string().nullable() }).openapi("AuditPage") } },
    },
    ...problemResponses(400, 401, 403),
  },
});

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Rows written before every settings.* entry stored whole documents: a rollback, preset or draft
 * promotion kept `before: { revision }` and `after: { revision, …detail, changes }`, the diff made
 * at write time. Such a row reads as the same changes a row of today's shape gives.
 */
function legacyDerivedChanges(before: unknown, after: unknown): Change[] | null {
  if (!isObject(before) || !isObject(after) || "settings" in after || typeof after.revision !== "number" || !Array.isArray(after.changes)) return null;
  const { changes, ...rest } = after as { changes: Change[] } & Record<string, unknown>;
  const settings = changes.map((c) => ({ ...c, path: c.path === "(root)" ? "settings" : `settings.${c.path}` }));
  return [...diff(before, rest), ...settings];
}

/** A create (no before) or delete (no after) diffs against {}: one change per field, not one at the root. */
export function auditChanges(before: unknown, after: unknown): Change[] {
  if (before == null && after == null) return [];
  const legacy = legacyDerivedChanges(before, after);
  if (legacy) return legacy;
  if (before == null && isObject(after)) return diff({}, after);
  if (after == null && isObject(before)) return diff(before, {});
  return diff(before ?? undefined, after ?? undefined);
}

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);

    const where: SQL[] = [eq(auditLog.tenantId, p.tenantId)];
    if (after) where.push(lt(auditLog.id, after.id));
    if (q.action?.endsWith("*")) where.push(sql`starts_with(${auditLog.action}, ${q.action.slice(0, -1)})`);
    else if (q.action) where.push(eq(auditLog.action, q.action));
    if (q.actor) where.push(eq(auditLog.actor, q.actor));
    if (q.targetType) where.push(eq(auditLog.targetType, q.targetType));
    if (q.targetId) where.push(eq(auditLog.targetId, q.targetId));
    if (q.since) where.push(gte(auditLog.createdAt, new Date(q.since)));
    if (q.until) where.push(lt(auditLog.createdAt, new Date(q.until)));

    const rows = await c.get("db").withTenant(p.tenantId, (tx) =>
      tx
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(q.limit + 1),
    );
    const { items, nextCursor } = keysetPage(rows, q.limit, (last) => ({ id: last.id }));
    return c.json(
      {
        items: items.map((r) => ({
          id: r.id,
          actor: r.actor,
          action: r.action,
          targetType: r.targetType,
          targetId: r.targetId,
          before: r.before ?? null,
          after: r.after ?? null,
          changes: auditChanges(r.before, r.after),
          createdAt: r.createdAt.toISOString(),
        })),
        nextCursor,
      },
      200,
    );
  });
}
