// Shared by the settings routes (settings.ts, revisions.ts, presets.ts, drafts.ts, rendered.ts …):
// path and header schemas and the revision response shape. Not a route module: it registers
// nothing; the queries and the one write path are in src/services/settings.ts.
import { z } from "@hono/zod-openapi";
import { EnvironmentSettings } from "../policies/index.ts";
import type { StoredRevision } from "../services/settings.ts";

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
  "if-match": z.string().optional().openapi({ description: 'Optional: the ETag of the current revision (e.g. "3") or *; 412 when another change came first.' }),
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

export function revisionJson(r: StoredRevision): RevisionDetail {
  // Stored documents are already normalised; returned as stored so history shows what applied.
  return {
    revision: r.revision,
    settings: r.document as RevisionDetail["settings"],
    author: r.author,
    comment: r.comment,
    createdAt: r.createdAt.toISOString(),
  };
}
