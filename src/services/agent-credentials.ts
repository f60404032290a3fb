// The queries and transactions of /v1/environments/{id}/agent-credentials
// (routes/agent-credentials.ts parses, authorises and answers, with the install manifest):
// create within the quota, list, revoke, rotate, each audited in its transaction. Only
// sha256(secret) is stored; a revoke or rotate makes this process forget the agent's cached
// state at commit (others on NOTIFY), so the old secret stops working at once.
import { and, desc, eq, isNull } from "drizzle-orm";
import { generateCredential } from "../app/credentials.ts";
import type { Principal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { agentCredentials, type AgentCredential } from "../db/schema.ts";
import { invalidCursor, olderThanCursor } from "../lib/cursor.ts";
import { forgetAgentState } from "./agent-state.ts";
import { audit } from "./audit.ts";
import { requireEnvironment } from "./environments.ts";
import { enforceQuota, type Quotas } from "./quotas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
/** What the audit log records of a credential: never its secret or hash. */
const auditFields = (r: AgentCredential) => ({ environmentId: r.environmentId, prefix: r.prefix, revokedAt: iso(r.revokedAt) });

const revokedConflict = () => new ProblemError(409, "A revoked agent credential cannot be rotated; create a new one.");

/** The credential, only if it belongs to this environment of this tenant. */
async function findCredential(tx: Db, tenantId: string, environmentId: string, id: string): Promise<AgentCredential | undefined> {
  const [row] = await tx
    .select()
    .from(agentCredentials)
    .where(and(eq(agentCredentials.id, id), eq(agentCredentials.environmentId, environmentId), eq(agentCredentials.tenantId, tenantId)));
  return row;
}

async function requireCredential(tx: Db, tenantId: string, environmentId: string, id: string): Promise<AgentCredential> {
  const row = await findCredential(tx, tenantId, environmentId, id);
  if (!row) throw new ProblemError(404, "No such agent credential in this environment.");
  return row;
}

/** What a create or rotate hands the route: the row, the token (shown once) and the environment's name (for the manifest). */
export interface IssuedCredential {
  row: AgentCredential;
  token: string;
  environmentName: string;
}

/** A new credential (gha_<prefix>_<secret>) for the environment, within the tenant's quota, audited. */
export async function createAgentCredential(tx: Db, who: Principal, environmentId: string, quotas?: Quotas): Promise<IssuedCredential> {
  const cred = generateCredential("gha");
  const { name: environmentName } = await requireEnvironment(tx, who.tenantId, environmentId);
  await enforceQuota(tx, who.tenantId, "agentCredentials", quotas);
  const [r] = await tx
    .insert(agentCredentials)
    .values({ tenantId: who.tenantId, environmentId, prefix: cred.prefix, secretHash: cred.secretHash, createdBy: who.subject })
    .returning();
  await audit(tx, who, { action: "agent_credential.create", targetType: "agent_credential", targetId: r!.id, after: auditFields(r!) });
  return { row: r!, token: cred.token, environmentName };
}

/** A page of the environment's credentials, newest first; limit + 1 rows (lib/cursor.ts keysetPage). */
export async function listAgentCredentials(
  tx: Db,
  tenantId: string,
  environmentId: string,
  page: { after: { id: string } | undefined; limit: number },
): Promise<AgentCredential[]> {
  await requireEnvironment(tx, tenantId, environmentId);
  const where = [eq(agentCredentials.tenantId, tenantId), eq(agentCredentials.environmentId, environmentId)];
  if (page.after) {
    if (!(await findCredential(tx, tenantId, environmentId, page.after.id))) throw invalidCursor();
    where.push(olderThanCursor(agentCredentials, page.after, tenantId));
  }
  return tx
    .select()
    .from(agentCredentials)
    .where(and(...where))
    .orderBy(desc(agentCredentials.createdAt), desc(agentCredentials.id))
    .limit(page.limit + 1);
}

/** Revokes it (already revoked: nothing changes, nothing is audited). */
export async function revokeAgentCredential(tx: Db, who: Principal, environmentId: string, id: string, now: Date): Promise<void> {
  const before = await requireCredential(tx, who.tenantId, environmentId, id);
  // Conditional update: of two concurrent revokes, one records it, the other is the no-op.
  const [after] = await tx
    .update(agentCredentials)
    .set({ revokedAt: now })
    .where(and(eq(agentCredentials.id, id), eq(agentCredentials.tenantId, who.tenantId), isNull(agentCredentials.revokedAt)))
    .returning();
  forgetAgentState(tx, who.tenantId, environmentId);
  if (after) {
    await audit(tx, who, {
      action: "agent_credential.revoke",
      targetType: "agent_credential",
      targetId: id,
      before: auditFields(before),
      after: auditFields(after),
    });
  }
}

/** A new secret (same prefix: the credential keeps its identity); 409 once revoked. Audited. */
export async function rotateAgentCredential(tx: Db, who: Principal, environmentId: string, id: string, now: Date): Promise<IssuedCredential> {
  const { name: environmentName } = await requireEnvironment(tx, who.tenantId, environmentId);
  const before = await requireCredential(tx, who.tenantId, environmentId, id);
  if (before.revokedAt) throw revokedConflict();
  const cred = generateCredential("gha", before.prefix);
  const [after] = await tx
    .update(agentCredentials)
    .set({ secretHash: cred.secretHash })
    .where(and(eq(agentCredentials.id, id), eq(agentCredentials.tenantId, who.tenantId), isNull(agentCredentials.revokedAt)))
    .returning();
  if (!after) throw revokedConflict();
  forgetAgentState(tx, who.tenantId, environmentId);
  await audit(tx, who, {
    action: "agent_credential.rotate",
    targetType: "agent_credential",
    targetId: id,
    before: auditFields(before),
    after: { ...auditFields(after), secretRotatedAt: now.toISOString() },
  });
  return { row: after, token: cred.token, environmentName };
}
