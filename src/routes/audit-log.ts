// GET /v1/audit-log: who changed what, newest first. Admin only, not viewer: entries carry whole
// before/after documents (settings with their exemptions, API key names, roles and prefixes,
// agent credential prefixes), which is more than the viewer role is meant to read; and a
// security log is for those who manage access. Secrets never reach the log (see api-keys.ts).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { auditChanges, listAuditLog } from "../services/audit-log.ts";

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

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const q = c.req.valid("query");
    const after = readCursor(q.cursor, Cursor);

    const rows = await c
      .get("db")
      .withTenant(p.tenantId, (tx) =>
        listAuditLog(
          tx,
          p.tenantId,
          { ...q, since: q.since ? new Date(q.since) : undefined, until: q.until ? new Date(q.until) : undefined },
          { after, limit: q.limit },
        ),
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
