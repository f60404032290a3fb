// Every settings revision is written here, by one path: lock the environment, check If-Match
// against its current revision, derive the new document from the current one (a PUT's body, a
// PATCH's merge, a rollback's old revision, a preset, a draft), validate it, append it and audit it
// — all in the caller's transaction. The environment row is locked first, so the document is
// derived from the revision it will follow: no concurrent writer slips in between, and of two
// writers holding the same revision exactly one wins and the other gets 412.
import { and, eq } from "drizzle-orm";
import { revisionEtag } from "../app/conditional.ts";
import type { Principal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { settingsRevisions } from "../db/schema.ts";
import { EnvironmentSettings, fieldIssues } from "../policies/index.ts";
import { audit } from "./audit.ts";
import { environmentNotFound, requireEnvironment } from "./environments.ts";
import { appendRevision, revisionColumns } from "./revisions.ts";

export interface StoredRevision {
  revision: number;
  document: unknown;
  author: string;
  comment: string;
  createdAt: Date;
}

export async function loadRevision(tx: Db, tenantId: string, environmentId: string, revision: number): Promise<StoredRevision | null> {
  const [row] = await tx
    .select(revisionColumns)
    .from(settingsRevisions)
    .where(and(eq(settingsRevisions.tenantId, tenantId), eq(settingsRevisions.environmentId, environmentId), eq(settingsRevisions.revision, revision)));
  return row ?? null;
}

export const revisionNotFound = (id: string, revision: number) => new ProblemError(404, `Environment ${id} has no revision ${revision}.`);

/** Another change came first: one wording for every writer, the ETag naming the current revision. */
const staleRevision = (current: number, expected: number) =>
  new ProblemError(412, `The settings are at revision ${current}, not ${expected}: fetch them again and reapply the change.`, {
    headers: { etag: revisionEtag(current) },
  });

interface DerivedChange {
  document: unknown;
  comment: string;
  /** Extra audit detail for `after` (the preset, the revision rolled back to, the draft). */
  detail?: Record<string, unknown>;
}

/**
 * Appends the revision `derive` makes of the current one (null at revision 0) and its audit row.
 * `expected` is the revision If-Match named (undefined: none, or `*`). A document that is not valid
 * against the catalogue is a 409 (an old revision may predate a catalogue change); a writer that
 * must answer 400 with its own paths (PATCH) validates inside `derive`.
 *
 * Every settings.* audit row has one shape: `before: { revision, settings }` and
 * `after: { revision, settings, ...detail }`, whole documents, which the audit log diffs on read.
 */
export async function commitDerivedRevision(
  tx: Db,
  who: Principal,
  input: {
    environmentId: string;
    expected: number | undefined;
    action: string;
    derive(current: StoredRevision | null): Promise<DerivedChange> | DerivedChange;
  },
): Promise<StoredRevision> {
  const { environmentId: id, expected } = input;
  const env = await requireEnvironment(tx, who.tenantId, id, { lock: true });
  if (expected !== undefined && expected !== env.currentRevision) throw staleRevision(env.currentRevision, expected);
  const current = env.currentRevision > 0 ? await loadRevision(tx, who.tenantId, id, env.currentRevision) : null;
  const change = await input.derive(current);
  const parsed = EnvironmentSettings.safeParse(change.document);
  if (!parsed.success) {
    throw new ProblemError(409, "The resulting settings are not valid against the current catalogue.", { errors: fieldIssues(parsed.error) });
  }
  const appended = await appendRevision(tx, {
    tenantId: who.tenantId,
    environmentId: id,
    expected: env.currentRevision,
    document: parsed.data,
    author: who.subject,
    comment: change.comment,
  });
  if (!appended.ok) {
    // Unreachable while the row is locked; kept so a future refactor fails safe.
    if (appended.reason === "not-found") throw environmentNotFound(id);
    throw staleRevision(appended.current, env.currentRevision);
  }
  await audit(tx, who, {
    action: input.action,
    targetType: "environment",
    targetId: id,
    before: { revision: env.currentRevision, settings: current?.document ?? null },
    after: { revision: appended.revision, settings: parsed.data, ...change.detail },
  });
  // Read back for createdAt (set by the database) and the document exactly as stored.
  const stored = await loadRevision(tx, who.tenantId, id, appended.revision);
  if (!stored) throw new Error(`revision ${appended.revision} vanished inside its own transaction`);
  return stored;
}
