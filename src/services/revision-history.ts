// What the revision routes read of an environment's settings history (routes/revisions.ts):
// a page of revisions newest first, one revision, two for a diff, the document GET …/rendered
// renders (the current revision or a draft's), each behind the one 404 for an
// environment that is not this tenant's and the one for a revision it does not have. Writing a
// revision (a rollback too) is services/settings.ts's one path.
import { and, desc, eq, lt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { settingsRevisions } from "../db/schema.ts";
import { ProblemError } from "../app/problem.ts";
import { getDraft } from "./drafts.ts";
import { environmentNotFound, requireEnvironment } from "./environments.ts";
import { loadRevision, revisionNotFound, type StoredRevision } from "./settings.ts";

/** A page of the environment's revisions (without their documents) below `before`, newest first; limit + 1 rows (lib/cursor.ts keysetPage). */
export async function listRevisions(tx: Db, tenantId: string, environmentId: string, page: { before: number | undefined; limit: number }) {
  await requireEnvironment(tx, tenantId, environmentId);
  const where = [eq(settingsRevisions.tenantId, tenantId), eq(settingsRevisions.environmentId, environmentId)];
  if (page.before !== undefined) where.push(lt(settingsRevisions.revision, page.before));
  return tx
    .select({
      revision: settingsRevisions.revision,
      author: settingsRevisions.author,
      comment: settingsRevisions.comment,
      createdAt: settingsRevisions.createdAt,
    })
    .from(settingsRevisions)
    .where(and(...where))
    .orderBy(desc(settingsRevisions.revision))
    .limit(page.limit + 1);
}

/** One revision of the environment. */
export async function getRevision(tx: Db, tenantId: string, environmentId: string, revision: number): Promise<StoredRevision> {
  await requireEnvironment(tx, tenantId, environmentId);
  const row = await loadRevision(tx, tenantId, environmentId, revision);
  if (!row) throw revisionNotFound(environmentId, revision);
  return row;
}

/** Two revisions of the environment, for a diff. */
export async function getRevisionPair(tx: Db, tenantId: string, environmentId: string, from: number, to: number): Promise<[StoredRevision, StoredRevision]> {
  await requireEnvironment(tx, tenantId, environmentId);
  // One connection per transaction: queries run one after the other anyway.
  const a = await loadRevision(tx, tenantId, environmentId, from);
  const b = await loadRevision(tx, tenantId, environmentId, to);
  if (!a) throw revisionNotFound(environmentId, from);
  if (!b) throw revisionNotFound(environmentId, to);
  return [a, b];
}

/** The settings document to render: the environment's current revision, or an open draft's (`draft`: its id); 404 before revision 1. */
export async function settingsToRender(
  tx: Db,
  tenantId: string,
  environmentId: string,
  o: { draft: string | undefined; now: Date },
): Promise<{ revision: number; document: unknown; draft?: string }> {
  if (o.draft !== undefined) {
    const d = await getDraft(tx, tenantId, environmentId, o.draft, o.now);
    return { revision: d.baseRevision, document: d.document, draft: d.id };
  }
  const env = await requireEnvironment(tx, tenantId, environmentId);
  if (env.currentRevision === 0) throw new ProblemError(404, `Environment ${environmentId} has no settings yet.`);
  const row = await loadRevision(tx, tenantId, environmentId, env.currentRevision);
  if (!row) throw environmentNotFound(environmentId);
  return row;
}
