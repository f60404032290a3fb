// Every mutating action writes one audit row, inside the same transaction as the change, so the
// log can never disagree with the data.
import type { Principal } from "../app/env.ts";
import type { Db } from "../db/client.ts";
import { auditLog } from "../db/schema.ts";

export interface AuditEntry {
  /** dotted verb: environment.create, settings.update, api_key.revoke … */
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

/** The actor: a user or API key (a Principal), or an agent (`agent:<prefix>`) in its tenant. */
export type Actor = Pick<Principal, "tenantId" | "subject">;

export async function audit(tx: Db, who: Actor, entry: AuditEntry): Promise<void> {
  await tx.insert(auditLog).values({
    tenantId: who.tenantId,
    actor: who.subject,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: entry.before ?? null,
    after: entry.after ?? null,
  });
}
