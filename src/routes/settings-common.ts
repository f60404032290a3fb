// Shared by the settings-history routes (revisions.ts, presets.ts, rendered.ts): path and header
// schemas, the revision response shape, and the one way a derived revision (rollback, preset) is
// committed. Not a route module: it registers nothing.
import { z } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { ifMatchRevision, revisionEtag } from "../app/conditional.ts";
import type { Principal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { settingsRevisions } from "../db/schema.ts";
import { diff } from "../lib/json-diff.ts";
import { EnvironmentSettings, fieldIssues } from "../policies/index.ts";
import { audit } from "../services/audit.ts";
import { environmentNotFound, requireEnvironment } from "../services/environments.ts";
import { appendRevision } from "../services/revisions.ts";

/** Revisions are int4 in the database; a larger number must be a 400, not a cast error (500). */
export const MAX_REVISION = 2_147_483_647;

export const EnvironmentId = z.uuid().openapi({ description: "Environment id", example: "0b6c5f6e-3f0a-4d55-9d3a-8f7b2a8e4c11" });
export const EnvParams = z.object({ id: EnvironmentId });

/** A revision number in a path or query: digits only (no "1e3", " 1", "0x10"), 1..int4 max. */
export const RevisionNumber = z
  .string()
  .regex(/^[1-9][0-9]{0,9}$/, "must be a positive integer")
  .pipe(z.coerce.number<string>().int().max(MAX_REVISION, `must be at most ${MAX_REVISION}`))
  .openapi({ type: "integer", minimum: 1, example: 3 });
export const RevisionParams = z.object({ id: EnvironmentId, revision: RevisionNumber });

export const IfMatchHeaders = z.object({
  "if-match": z
    .string()
    .optional()
    .openapi({ description: 'Optional: the ETag of the current revision (e.g. "3") or *; 412 when another change came first.' }),
});

export const SettingsDocument = EnvironmentSettings.openapi("EnvironmentSettings");

export const RevisionDetail = z
  .object({
    revision: z.int().min(1),
    settings: SettingsDocument,
    author: z.string().openapi({ description: "JWT subject, or apikey:<prefix>" }),
    comment: z.string(),
    createdAt: z.iso.datetime(),
  })
  .openapi("SettingsRevisionDetail");
export type RevisionDetail = z.infer<typeof RevisionDetail>;

/** The 201 of routes that derive a new revision (rollback, preset). */
export const NewRevisionResponse = {
  description: "The new current revision; ETag and Location name it",
  headers: { ETag: { schema: { type: "string" as const } }, Location: { schema: { type: "string" as const } } },
  content: { "application/json": { schema: RevisionDetail } },
};

export const CommentField = z.string().max(500).optional().openapi({ description: "Stored with the revision." });

export interface StoredRevision {
  revision: number;
  document: unknown;
  author: string;
  comment: string;
  createdAt: Date;
}

export async function loadRevision(tx: Db, tenantId: string, environmentId: string, revision: number): Promise<StoredRevision | null> {
  const [row] = await tx
    .select({
      revision: settingsRevisions.revision,
      document: settingsRevisions.document,
      author: settingsRevisions.author,
      comment: settingsRevisions.comment,
      createdAt: settingsRevisions.createdAt,
    })
    .from(settingsRevisions)
    .where(
      and(
        eq(settingsRevisions.tenantId, tenantId),
        eq(settingsRevisions.environmentId, environmentId),
        eq(settingsRevisions.revision, revision),
      ),
    );
  return row ?? null;
}

export const revisionNotFound = (id: string, revision: number) => new ProblemError(404, `Environment ${id} has no revision ${revision}.`);

export function revisionJson(r: StoredRevision): RevisionDetail {
  // Stored documents are already normalised; returned as stored so history shows what applied.
  return { revision: r.revision, settings: r.document as RevisionDetail["settings"], author: r.author, comment: r.comment, createdAt: r.createdAt.toISOString() };
}

export interface DerivedChange {
  document: unknown;
  comment: string;
  /** Extra audit detail for `after` (e.g. the preset name). */
  detail: Record<string, unknown>;
}

/**
 * Appends a revision derived from the current one (rollback, preset) and its audit row, in the
 * caller's transaction. The environment row is locked first, so the document is derived from the
 * revision it will follow: no concurrent writer can slip in between (and If-Match is exact).
 */
export async function commitDerivedRevision(
  tx: Db,
  who: Principal,
  input: { environmentId: string; ifMatch: string | undefined; action: string; derive(current: StoredRevision | null): Promise<DerivedChange> },
): Promise<StoredRevision> {
  const { environmentId: id } = input;
  const expected = ifMatchRevision(input.ifMatch, { star: true }); // a malformed header is a 400 before any lookup
  const env = await requireEnvironment(tx, who.tenantId, id, { lock: true });
  if (expected !== undefined && expected !== env.currentRevision) {
    throw new ProblemError(412, `If-Match names revision ${expected}, but the current revision is ${env.currentRevision}.`, {
      headers: { etag: revisionEtag(env.currentRevision) },
    });
  }
  const current = env.currentRevision > 0 ? await loadRevision(tx, who.tenantId, id, env.currentRevision) : null;
  const change = await input.derive(current);
  // An old revision may predate a catalogue change; refuse rather than store an invalid document.
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
    throw new ProblemError(412, `The current revision is now ${appended.current}.`, { headers: { etag: revisionEtag(appended.current) } });
  }
  await audit(tx, who, {
    action: input.action,
    targetType: "environment",
    targetId: id,
    before: { revision: env.currentRevision },
    after: { revision: appended.revision, ...change.detail, changes: diff(current?.document ?? null, parsed.data) },
  });
  const stored = await loadRevision(tx, who.tenantId, id, appended.revision);
  if (!stored) throw new Error(`revision ${appended.revision} vanished inside its own transaction`);
  return stored;
}
