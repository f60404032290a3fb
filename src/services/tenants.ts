// Tenants and their members come into being here: a tenant on a first sign-in
// (TENANT_PROVISIONING=auto) or by the operator's `npm run tenant:create` (closed); a member on
// their first request. Each creation (and a member's role change) commits with its audit row,
// and a race between two first requests creates (and audits) it once. GET /v1/tenant reads them
// here too (tenantWithMembers).
import { and, asc, eq } from "drizzle-orm";
import type { Role } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Database, Db } from "../db/client.ts";
import { memberships, tenants } from "../db/schema.ts";
import { audit } from "./audit.ts";

export interface CreateTenantOptions {
  /** The audit actor: the token's subject (auto) or `cli:<user>` (the operator command). */
  actor: string;
  /** How the tenant came to be, recorded in the audit row. */
  provisioning: "auto" | "cli";
  /** Display name; defaults to the slug. */
  name?: string;
}

/** The tenant's id for a slug, if it exists. Tenants are looked up as the system: there is no tenant yet to scope by. */
export async function findTenantId(db: Database, slug: string): Promise<string | undefined> {
  return db.asSystem(async (tx) => (await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug)))[0]?.id);
}

/** Creates the tenant unless it exists (then `created: false`, nothing written). */
export async function createTenant(db: Database, slug: string, opts: CreateTenantOptions): Promise<{ id: string; created: boolean }> {
  const existing = await findTenantId(db, slug);
  if (existing) return { id: existing, created: false };
  return db.asSystem(async (tx) => {
    const name = opts.name ?? slug;
    const [row] = await tx.insert(tenants).values({ slug, name }).onConflictDoNothing({ target: tenants.slug }).returning({ id: tenants.id });
    if (row) {
      await audit(
        tx,
        { tenantId: row.id, subject: opts.actor },
        { action: "tenant.create", targetType: "tenant", targetId: row.id, after: { slug, name, provisioning: opts.provisioning } },
      );
      return { id: row.id, created: true };
    }
    // Another request created it between our look-up and the insert; it wrote the audit row.
    const [other] = await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.slug, slug));
    if (!other) throw new Error(`tenant ${slug} vanished while being provisioned`);
    return { id: other.id, created: false };
  });
}

/**
 * A user's request as a member: the first one creates the membership, one with a different role
 * than the stored one changes it (the token's role is authoritative), each audited with the
 * member as actor; otherwise only `last_seen_at` moves, when older than `touchMs`. The row is
 * locked while deciding, so two requests cannot both audit the same change.
 */
export async function recordSignIn(tx: Db, m: { tenantId: string; subject: string; role: Role; now: Date; touchMs: number }): Promise<void> {
  const { tenantId, subject, role, now } = m;
  const who = { tenantId, subject };
  const where = and(eq(memberships.tenantId, tenantId), eq(memberships.subject, subject));
  let [prev] = await tx.select({ role: memberships.role, lastSeenAt: memberships.lastSeenAt }).from(memberships).where(where).for("update");
  if (!prev) {
    const [made] = await tx
      .insert(memberships)
      .values({ tenantId, subject, role, lastSeenAt: now })
      .onConflictDoNothing()
      .returning({ role: memberships.role });
    if (made) {
      await audit(tx, who, { action: "member.create", targetType: "member", targetId: subject, after: { subject, role } });
      return;
    }
    // A concurrent first request inserted it (and audited that); decide against its row.
    [prev] = await tx.select({ role: memberships.role, lastSeenAt: memberships.lastSeenAt }).from(memberships).where(where).for("update");
    if (!prev) return;
  }
  if (prev.role !== role) {
    await tx.update(memberships).set({ role, lastSeenAt: now }).where(where);
    await audit(tx, who, {
      action: "member.role_change",
      targetType: "member",
      targetId: subject,
      before: { subject, role: prev.role },
      after: { subject, role },
    });
  } else if (now.getTime() - prev.lastSeenAt.getTime() >= m.touchMs || now < prev.lastSeenAt) {
    // Bookkeeping, not a change anyone made: no audit row.
    await tx.update(memberships).set({ lastSeenAt: now }).where(where);
  }
}

/** The tenant and its members by subject (GET /v1/tenant); 404 when the credential's tenant is gone. RLS limits both queries to it too. */
export async function tenantWithMembers(tx: Db, tenantId: string) {
  const [tenant] = await tx.select().from(tenants).where(eq(tenants.id, tenantId));
  if (!tenant) throw new ProblemError(404, "The tenant of this credential no longer exists.");
  const members = await tx
    .select({ subject: memberships.subject, role: memberships.role, lastSeenAt: memberships.lastSeenAt })
    .from(memberships)
    .where(eq(memberships.tenantId, tenantId))
    .orderBy(asc(memberships.subject));
  return { tenant, members };
}
