// Environments: the one lookup that says an environment exists and is this tenant's (optionally
// locking its row, which serialises the writers of its settings and drafts), the one 404 that says
// it does not, and every query and transaction of /v1/environments (routes/environments.ts parses,
// authorises and answers). Each carries its agent's last status, joined in the same query.
import { and, asc, eq, gt, or, sql, type SQL } from "drizzle-orm";
import type { Principal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import { PG, pgErrorCode, type Db } from "../db/client.ts";
import { agentStatus, environments, type Environment as EnvironmentRow } from "../db/schema.ts";
import type { EnvironmentSettings } from "../policies/index.ts";
import type { AgentStatusReport } from "../protocol/agent.ts";
import { audit } from "./audit.ts";
import { enforceQuota, type Quotas } from "./quotas.ts";
import { forgetAgentState } from "./agent-state.ts";
import { appendRevision } from "./revisions.ts";

/** The columns every caller of requireEnvironment needs; the whole row is environments.ts's. */
export interface EnvironmentRef {
  id: string;
  name: string;
  currentRevision: number;
}

export const environmentNotFound = (id: string) => new ProblemError(404, `No environment ${id}.`);

/**
 * The environment, or null when it is not this tenant's. `lock` takes its row FOR UPDATE: every
 * writer of an environment's revisions or drafts locks it first, in that order, so none deadlock.
 */
export async function findEnvironment(tx: Db, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<EnvironmentRef | null> {
  const q = tx
    .select({ id: environments.id, name: environments.name, currentRevision: environments.currentRevision })
    .from(environments)
    .where(and(eq(environments.id, id), eq(environments.tenantId, tenantId)));
  const [row] = opts.lock ? await q.for("update") : await q;
  return row ?? null;
}

/** findEnvironment, or the 404 of a user route. Agents' routes use requireAgentEnvironment (agent-common.ts). */
export async function requireEnvironment(tx: Db, tenantId: string, id: string, opts: { lock?: boolean } = {}): Promise<EnvironmentRef> {
  const row = await findEnvironment(tx, tenantId, id, opts);
  if (!row) throw environmentNotFound(id);
  return row;
}

/** What the API returns of an environment's own fields, and what the audit log records of it (not its volatile agent state). */
export function environmentFields(row: EnvironmentRow) {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    labels: row.labels,
    currentRevision: row.currentRevision,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The agent's last status as an environment's summary needs it; null before its first report. */
export type AgentColumns = { lastSeenAt: Date | null; appliedRevision: number | null; gatekeeper: AgentStatusReport["gatekeeper"] | null } | null;
export interface EnvironmentWithAgent {
  env: EnvironmentRow;
  agent: AgentColumns;
}

/** Gatekeeper's part of the agent's last report (whether it is degraded), not the whole report. */
const agentGatekeeper = sql<AgentStatusReport["gatekeeper"] | null>`${agentStatus.report}->'gatekeeper'`;

/** Environments with their agent's last status in one query (a left join: most have none yet). */
function selectWithAgent(tx: Db) {
  return tx
    .select({ env: environments, agent: { lastSeenAt: agentStatus.lastSeenAt, appliedRevision: agentStatus.appliedRevision, gatekeeper: agentGatekeeper } })
    .from(environments)
    .leftJoin(agentStatus, and(eq(agentStatus.environmentId, environments.id), eq(agentStatus.tenantId, environments.tenantId)));
}

const scoped = (tenantId: string, id: string) => and(eq(environments.id, id), eq(environments.tenantId, tenantId));

/** Runs a write; a unique violation (the tenant already has that name) becomes a 409. */
async function uniqueName<T>(name: string | undefined, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (pgErrorCode(err) === PG.uniqueViolation) throw new ProblemError(409, `An environment named "${name}" already exists in this tenant.`);
    throw err;
  }
}

export interface NewEnvironment {
  name: string;
  description: string;
  labels: Record<string, string>;
  /** Revision 1, already validated. */
  settings: EnvironmentSettings;
  comment: string;
}

/** The environment and its settings revision 1, within the tenant's quota, audited. */
export async function createEnvironment(tx: Db, who: Principal, input: NewEnvironment, quotas?: Quotas): Promise<EnvironmentRow> {
  await enforceQuota(tx, who.tenantId, "environments", quotas);
  const [row] = await uniqueName(input.name, () =>
    tx.insert(environments).values({ tenantId: who.tenantId, name: input.name, description: input.description, labels: input.labels }).returning(),
  );
  const appended = await appendRevision(tx, {
    tenantId: who.tenantId,
    environmentId: row!.id,
    expected: 0,
    document: input.settings,
    author: who.subject,
    comment: input.comment,
  });
  if (!appended.ok) throw new Error(`revision 1 of a new environment refused: ${appended.reason}`);
  const created = { ...row!, currentRevision: appended.revision };
  await audit(tx, who, {
    action: "environment.create",
    targetType: "environment",
    targetId: row!.id,
    after: { ...environmentFields(created), settings: input.settings },
  });
  return created;
}

/** A page of the tenant's environments by name (then id), with every wanted label; limit + 1 rows (lib/cursor.ts keysetPage). */
export function listEnvironments(
  tx: Db,
  tenantId: string,
  q: { labels: readonly (readonly [string, string])[]; after: { name: string; id: string } | undefined; limit: number },
): Promise<EnvironmentWithAgent[]> {
  const where: (SQL | undefined)[] = [eq(environments.tenantId, tenantId)];
  // jsonb containment; one object with every wanted pair means "all of them".
  if (q.labels.length) where.push(sql`${environments.labels} @> ${JSON.stringify(Object.fromEntries(q.labels))}::jsonb`);
  if (q.after) where.push(or(gt(environments.name, q.after.name), and(eq(environments.name, q.after.name), gt(environments.id, q.after.id))));
  return selectWithAgent(tx)
    .where(and(...where))
    .orderBy(asc(environments.name), asc(environments.id))
    .limit(q.limit + 1);
}

export async function getEnvironment(tx: Db, tenantId: string, id: string): Promise<EnvironmentWithAgent> {
  const [row] = await selectWithAgent(tx).where(scoped(tenantId, id));
  if (!row) throw environmentNotFound(id);
  return row;
}

/** Renames, describes or relabels (fields given replace the current ones), audited. */
export async function updateEnvironment(
  tx: Db,
  who: Principal,
  id: string,
  changes: { name?: string | undefined; description?: string | undefined; labels?: Record<string, string> | undefined },
): Promise<EnvironmentWithAgent> {
  const [locked] = await tx.select().from(environments).where(scoped(who.tenantId, id)).for("update");
  if (!locked) throw environmentNotFound(id);
  const [row] = await uniqueName(changes.name, () =>
    tx
      .update(environments)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(scoped(who.tenantId, id))
      .returning(),
  );
  forgetAgentState(tx, who.tenantId, id); // a new name is in the desired state
  await audit(tx, who, {
    action: "environment.update",
    targetType: "environment",
    targetId: id,
    before: environmentFields(locked),
    after: environmentFields(row!),
  });
  const [status] = await tx
    .select({ lastSeenAt: agentStatus.lastSeenAt, appliedRevision: agentStatus.appliedRevision, gatekeeper: agentGatekeeper })
    .from(agentStatus)
    .where(and(eq(agentStatus.environmentId, id), eq(agentStatus.tenantId, who.tenantId)));
  return { env: row!, agent: status ?? null };
}

/** Deletes it with its settings history and agent credentials (ON DELETE CASCADE), audited. */
export async function deleteEnvironment(tx: Db, who: Principal, id: string): Promise<void> {
  const [row] = await tx.delete(environments).where(scoped(who.tenantId, id)).returning();
  if (!row) throw environmentNotFound(id);
  await audit(tx, who, { action: "environment.delete", targetType: "environment", targetId: id, before: environmentFields(row) });
  // Its credentials go with it: this process stops accepting them at commit (others on NOTIFY).
  forgetAgentState(tx, who.tenantId, id);
}
