// Environments as the other services and the routes see them: the one lookup that says an
// environment exists and is this tenant's (optionally locking its row, which serialises the
// writers of its settings and drafts), and the one 404 that says it does not.
import { and, eq } from "drizzle-orm";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { environments } from "../db/schema.ts";

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
