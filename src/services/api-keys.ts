// The queries and transactions of /v1/api-keys (routes/api-keys.ts parses, authorises and
// answers): create within the quota, list, revoke, rotate, each write audited in its transaction.
// Only sha256(secret) is stored; the token is generated here and handed back once to the route.
import { and, desc, eq, isNull } from "drizzle-orm";
import { generateCredential } from "../app/credentials.ts";
import type { Principal, Role } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { apiKeys, type ApiKey } from "../db/schema.ts";
import { invalidCursor, olderThanCursor } from "../lib/cursor.ts";
import { audit } from "./audit.ts";
import { enforceQuota, type Quotas } from "./quotas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** What the audit log records of a key: never its secret or hash. */
const auditFields = (k: ApiKey) => ({ name: k.name, role: k.role, prefix: k.prefix, revokedAt: iso(k.revokedAt) });

const notFound = () => new ProblemError(404, "No such API key.");
const revokedNotRotated = () => new ProblemError(409, "A revoked API key cannot be rotated; create a new one.");

const scoped = (tenantId: string, id: string) => and(eq(apiKeys.id, id), eq(apiKeys.tenantId, tenantId));

async function findKey(tx: Db, tenantId: string, id: string): Promise<ApiKey | undefined> {
  return (await tx.select().from(apiKeys).where(scoped(tenantId, id)))[0];
}

/** A new key and its token (ghk_<prefix>_<secret>, shown once), within the tenant's quota, audited. */
export async function createApiKey(tx: Db, who: Principal, body: { name: string; role: Role }, quotas?: Quotas): Promise<{ row: ApiKey; token: string }> {
  const cred = generateCredential("ghk");
  await enforceQuota(tx, who.tenantId, "apiKeys", quotas);
  const [k] = await tx
    .insert(apiKeys)
    .values({ tenantId: who.tenantId, name: body.name, role: body.role, prefix: cred.prefix, secretHash: cred.secretHash, createdBy: who.subject })
    .returning();
  await audit(tx, who, { action: "api_key.create", targetType: "api_key", targetId: k!.id, after: auditFields(k!) });
  return { row: k!, token: cred.token };
}

/** A page of the tenant's keys, newest first; limit + 1 rows (lib/cursor.ts keysetPage). */
export async function listApiKeys(tx: Db, tenantId: string, page: { after: { id: string } | undefined; limit: number }): Promise<ApiKey[]> {
  const where = [eq(apiKeys.tenantId, tenantId)];
  if (page.after) {
    if (!(await findKey(tx, tenantId, page.after.id))) throw invalidCursor();
    where.push(olderThanCursor(apiKeys, page.after, tenantId));
  }
  return tx
    .select()
    .from(apiKeys)
    .where(and(...where))
    .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
    .limit(page.limit + 1);
}

/** Revokes the key (already revoked: nothing changes, nothing is audited). */
export async function revokeApiKey(tx: Db, who: Principal, id: string, now: Date): Promise<void> {
  const before = await findKey(tx, who.tenantId, id);
  if (!before) throw notFound();
  // Conditional update: of two concurrent revokes, one records it, the other is the no-op.
  const [after] = await tx
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(scoped(who.tenantId, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (after) await audit(tx, who, { action: "api_key.revoke", targetType: "api_key", targetId: id, before: auditFields(before), after: auditFields(after) });
}

/** A new secret for the key (same prefix: it keeps its identity and its audit actor); 409 once revoked. Audited. */
export async function rotateApiKey(tx: Db, who: Principal, id: string, now: Date): Promise<{ row: ApiKey; token: string }> {
  const before = await findKey(tx, who.tenantId, id);
  if (!before) throw notFound();
  if (before.revokedAt) throw revokedNotRotated();
  const cred = generateCredential("ghk", before.prefix);
  const [after] = await tx
    .update(apiKeys)
    .set({ secretHash: cred.secretHash })
    .where(and(scoped(who.tenantId, id), isNull(apiKeys.revokedAt)))
    .returning();
  if (!after) throw revokedNotRotated();
  await audit(tx, who, {
    action: "api_key.rotate",
    targetType: "api_key",
    targetId: id,
    before: auditFields(before),
    after: { ...auditFields(after), secretRotatedAt: now.toISOString() },
  });
  return { row: after, token: cred.token };
}
