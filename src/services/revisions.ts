// Settings are append-only revisions with a current-revision pointer on the environment. A new
// revision moves the pointer with a compare-and-set, so of N writers holding the same revision
// exactly one wins and the others learn they are stale (HTTP 412).
import { forgetAgentState } from "./agent-state.ts";
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { environments, settingsRevisions } from "../db/schema.ts";
import { EnvironmentSettings } from "../policies/index.ts";

type AppendResult = { ok: true; revision: number } | { ok: false; reason: "not-found" } | { ok: false; reason: "stale"; current: number };

interface AppendInput {
  tenantId: string;
  environmentId: string;
  /** The revision the writer based its change on; undefined = whatever is current. */
  expected?: number | undefined;
  /** Already validated; stored normalised (defaults filled) so history shows what applied. */
  document: EnvironmentSettings;
  author: string;
  comment?: string;
}

export async function appendRevision(tx: Db, input: AppendInput): Promise<AppendResult> {
  const where = [eq(environments.id, input.environmentId), eq(environments.tenantId, input.tenantId)];
  if (input.expected !== undefined) where.push(eq(environments.currentRevision, input.expected));
  const [moved] = await tx
    .update(environments)
    .set({ currentRevision: sql`${environments.currentRevision} + 1`, updatedAt: sql`now()` })
    .where(and(...where))
    .returning({ revision: environments.currentRevision });
  if (!moved) {
    const [env] = await tx
      .select({ current: environments.currentRevision })
      .from(environments)
      .where(and(eq(environments.id, input.environmentId), eq(environments.tenantId, input.tenantId)));
    return env ? { ok: false, reason: "stale", current: env.current } : { ok: false, reason: "not-found" };
  }
  await tx.insert(settingsRevisions).values({
    tenantId: input.tenantId,
    environmentId: input.environmentId,
    revision: moved.revision,
    document: input.document,
    author: input.author,
    comment: input.comment ?? "",
  });
  // This process's agents see it from the commit on; other processes on its NOTIFY (agent-state.ts).
  forgetAgentState(tx, input.tenantId, input.environmentId);
  return { ok: true, revision: moved.revision };
}

interface CurrentSettings {
  revision: number;
  document: EnvironmentSettings;
  author: string;
  comment: string;
  createdAt: Date;
}

/** The columns of a revision as the API shows it (services/settings.ts loadRevision reads the same). */
export const revisionColumns = {
  revision: settingsRevisions.revision,
  document: settingsRevisions.document,
  author: settingsRevisions.author,
  comment: settingsRevisions.comment,
  createdAt: settingsRevisions.createdAt,
};

/** The environment's current revision, or null when the environment is not this tenant's. */
export async function currentSettings(tx: Db, tenantId: string, environmentId: string): Promise<CurrentSettings | null> {
  const [row] = await tx
    .select(revisionColumns)
    .from(environments)
    .innerJoin(settingsRevisions, and(eq(settingsRevisions.environmentId, environments.id), eq(settingsRevisions.revision, environments.currentRevision)))
    .where(and(eq(environments.id, environmentId), eq(environments.tenantId, tenantId)));
  return row ? { ...row, document: EnvironmentSettings.parse(row.document) } : null;
}

/** Only the current revision number (the agents' 304 check needs no document). */
export async function currentRevision(tx: Db, tenantId: string, environmentId: string): Promise<number | null> {
  const [row] = await tx
    .select({ revision: environments.currentRevision })
    .from(environments)
    .where(and(eq(environments.id, environmentId), eq(environments.tenantId, tenantId)));
  return row ? row.revision : null;
}
