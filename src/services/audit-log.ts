// Reading the audit log (GET /v1/audit-log; writing it is audit.ts): the filtered, newest-first
// page query, and the changes an entry shows, derived on read from its before/after documents
// (rows of an older shape included), so every entry reads the same way.
import { and, desc, eq, gte, lt, sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { auditLog, type AuditEntry } from "../db/schema.ts";
import { diff, type Change } from "../lib/json-diff.ts";

export interface AuditLogFilter {
  /** Exact action, or a prefix ending in '*'. */
  action?: string | undefined;
  actor?: string | undefined;
  targetType?: string | undefined;
  targetId?: string | undefined;
  /** Inclusive. */
  since?: Date | undefined;
  /** Exclusive. */
  until?: Date | undefined;
}

/** A page of the tenant's entries newest first, below the cursor's id; limit + 1 rows (lib/cursor.ts keysetPage). */
export function listAuditLog(tx: Db, tenantId: string, f: AuditLogFilter, page: { after: { id: number } | undefined; limit: number }): Promise<AuditEntry[]> {
  const where: SQL[] = [eq(auditLog.tenantId, tenantId)];
  if (page.after) where.push(lt(auditLog.id, page.after.id));
  if (f.action?.endsWith("*")) where.push(sql`starts_with(${auditLog.action}, ${f.action.slice(0, -1)})`);
  else if (f.action) where.push(eq(auditLog.action, f.action));
  if (f.actor) where.push(eq(auditLog.actor, f.actor));
  if (f.targetType) where.push(eq(auditLog.targetType, f.targetType));
  if (f.targetId) where.push(eq(auditLog.targetId, f.targetId));
  if (f.since) where.push(gte(auditLog.createdAt, f.since));
  if (f.until) where.push(lt(auditLog.createdAt, f.until));
  return tx
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(page.limit + 1);
}

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
