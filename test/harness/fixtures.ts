// Test data written straight to the database (inside withTenant, so RLS applies as for the app),
// so a route's tests do not depend on the routes that normally create that data.
import { and, asc, count, eq, notInArray } from "drizzle-orm";
import { auditLog, environments, settingsRevisions } from "../../src/db/schema.ts";
import { EnvironmentSettings, type EnvironmentSettingsInput } from "../../src/policies/index.ts";
import { appendRevision } from "../../src/services/revisions.ts";
import type { TestApi } from "./api.ts";

export interface CreatedEnvironment {
  id: string;
  tenantId: string;
}

/** An environment with revision 1 = `settings` (default `{}`), authored by "fixture". The tenant is provisioned if new. */
export async function createEnvironment(
  api: TestApi,
  tenantSlug: string,
  opts: { name: string; settings?: EnvironmentSettingsInput },
): Promise<CreatedEnvironment> {
  const tenantId = await api.tenantId(tenantSlug);
  const document = EnvironmentSettings.parse(opts.settings ?? {});
  const id = await api.db.withTenant(tenantId, async (tx) => {
    const [env] = await tx.insert(environments).values({ tenantId, name: opts.name }).returning({ id: environments.id });
    const r = await appendRevision(tx, { tenantId, environmentId: env!.id, expected: 0, document, author: "fixture", comment: "created" });
    if (!r.ok) throw new Error(`fixture: revision 1 of ${opts.name} refused: ${r.reason}`);
    return env!.id;
  });
  return { id, tenantId };
}

/** Appends a revision (on top of whatever is current) and returns its number. */
export async function setSettings(api: TestApi, tenantSlug: string, envId: string, document: EnvironmentSettingsInput, comment?: string): Promise<number> {
  const tenantId = await api.tenantId(tenantSlug);
  const parsed = EnvironmentSettings.parse(document);
  const r = await api.db.withTenant(tenantId, (tx) =>
    appendRevision(tx, { tenantId, environmentId: envId, document: parsed, author: "fixture", comment: comment ?? "" }),
  );
  if (!r.ok) throw new Error(`fixture: revision of ${envId} refused: ${r.reason}`);
  return r.revision;
}

/**
 * Sign-in bookkeeping that the auth middleware audits (a tenant's creation, a member's first
 * request or role change: src/services/tenants.ts, tested in tenant.provisioning.test.ts), not
 * the route under test: a test's first request with a new subject must not count as the route's.
 */
export const SIGN_IN_ACTIONS = ["tenant.create", "member.create", "member.role_change"];
/** The tenant's audit rows that routes wrote (everything but SIGN_IN_ACTIONS). */
export const routeAuditRows = (tenantId: string) => and(eq(auditLog.tenantId, tenantId), notInArray(auditLog.action, SIGN_IN_ACTIONS));

/** What a refused request must not have changed: the revision pointer, the revision rows, the audit log. */
export async function snapshot(api: TestApi, tenantSlug: string, envId: string) {
  const tenantId = await api.tenantId(tenantSlug);
  return api.db.withTenant(tenantId, async (tx) => {
    const [env] = await tx.select({ current: environments.currentRevision }).from(environments).where(eq(environments.id, envId));
    const [revs] = await tx
      .select({ n: count() })
      .from(settingsRevisions)
      .where(and(eq(settingsRevisions.tenantId, tenantId), eq(settingsRevisions.environmentId, envId)));
    const [audits] = await tx.select({ n: count() }).from(auditLog).where(routeAuditRows(tenantId));
    return { currentRevision: env?.current, revisions: revs?.n ?? 0, auditRows: audits?.n ?? 0 };
  });
}

/** The tenant's audit rows that routes wrote (not sign-in bookkeeping), oldest first. */
export async function auditRows(api: TestApi, tenantSlug: string) {
  const tenantId = await api.tenantId(tenantSlug);
  return api.db.withTenant(tenantId, (tx) => tx.select().from(auditLog).where(routeAuditRows(tenantId)).orderBy(asc(auditLog.id)));
}
