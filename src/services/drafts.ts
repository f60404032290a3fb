// Drafts: a proposed settings document for one environment, not a revision. It is resolved once
// (a whole document, a preset, or a merge-patch of controls, against the revision it is based on),
// evaluated in the cluster as shadow constraints (src/policies/shadow.ts) until it is promoted,
// deleted or expires, and promoted through the same derived-revision path as rollback and presets.
// Every query and transaction on drafts lives here; routes parse, authorise and answer. The
// agents' caches learn of a draft change from the database (a trigger's NOTIFY, agent-state.ts);
// forgetAgentState only makes this process's own agents see it from the commit on.
import { forgetAgentState } from "./agent-state.ts";
import { randomUUID } from "node:crypto";
import { and, asc, count, eq, gt, like, sql } from "drizzle-orm";
import { ifMatchRevision, revisionEtag } from "../app/conditional.ts";
import type { Principal } from "../app/env.ts";
import { DEFAULT_DRAFT_CONFIG, type DraftConfig } from "../app/config.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { drafts, type Draft } from "../db/schema.ts";
import { diff } from "../lib/json-diff.ts";
import { applyPreset, controlById, EnvironmentSettings, fieldIssues, type EnvironmentSettingsInput, type PresetName } from "../policies/index.ts";
import { audit } from "./audit.ts";
import { requireEnvironment } from "./environments.ts";
import { enforceQuota, type Quotas } from "./quotas.ts";
import { commitDerivedRevision, loadRevision, type StoredRevision } from "./settings.ts";
import { mergePatch } from "../lib/merge-patch.ts";

/** What a draft is made from; exactly one of the three. */
export type DraftSource = { settings: EnvironmentSettingsInput } | { preset: PresetName } | { controls: Record<string, Record<string, unknown> | null> };

const DAY_MS = 86_400_000;

const notFound = (id: string) => new ProblemError(404, `No draft ${id} in this environment.`);
const expired = (d: Draft) => new ProblemError(410, `Draft ${d.id} expired at ${d.expiresAt.toISOString()}; create a new one.`);

/**
 * The whole document a source makes on top of `base` (a stored, normalised document, or null),
 * validated with the settings schema. Errors carry paths of the request body.
 */
export function resolveDocument(base: unknown, source: DraftSource): EnvironmentSettings {
  const from = (base ?? {}) as EnvironmentSettingsInput & { controls?: Record<string, unknown> };
  let document: unknown;
  let prefix = "";
  if ("settings" in source) {
    document = source.settings;
    prefix = "settings.";
  } else if ("preset" in source) {
    document = applyPreset(from, source.preset);
  } else {
    const unknown = Object.keys(source.controls).filter((k) => !controlById.has(k));
    if (unknown.length > 0) {
      throw new ProblemError(400, "The request body is invalid.", {
        errors: unknown.map((k) => ({ path: `controls.${k}`, message: `no such control; controls: ${[...controlById.keys()].join(", ")}` })),
      });
    }
    document = { ...from, controls: mergePatch(from.controls ?? {}, source.controls) };
  }
  const parsed = EnvironmentSettings.safeParse(document);
  if (!parsed.success) {
    const errors = fieldIssues(parsed.error).map((i) => ({ ...i, path: i.path === "(root)" && prefix ? "settings" : `${prefix}${i.path}` }));
    throw new ProblemError(400, "The draft's settings are invalid.", { errors });
  }
  return parsed.data;
}

async function loadDraft(tx: Db, tenantId: string, environmentId: string, id: string, now: Date, lock = false): Promise<Draft> {
  const q = tx
    .select()
    .from(drafts)
    .where(and(eq(drafts.tenantId, tenantId), eq(drafts.environmentId, environmentId), eq(drafts.id, id)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(id);
  if (row.expiresAt.getTime() <= now.getTime()) throw expired(row);
  return row;
}

async function revisionDocument(tx: Db, tenantId: string, environmentId: string, revision: number): Promise<StoredRevision | null> {
  return revision > 0 ? loadRevision(tx, tenantId, environmentId, revision) : null;
}

/** A draft id whose short form (the shadow constraints' name prefix) no other draft of the environment has. */
async function freshId(tx: Db, tenantId: string, environmentId: string): Promise<string> {
  for (let i = 0; i < 8; i++) {
    const id = randomUUID();
    const [taken] = await tx
      .select({ n: count() })
      .from(drafts)
      .where(and(eq(drafts.tenantId, tenantId), eq(drafts.environmentId, environmentId), like(sql`${drafts.id}::text`, `${id.slice(0, 8)}%`)));
    if (!taken?.n) return id;
  }
  throw new Error("could not find a draft id with an unused short form");
}

export interface DraftWrite {
  environmentId: string;
  source: DraftSource;
  comment?: string | undefined;
  now: Date;
  config?: DraftConfig | undefined;
}

export async function createDraft(tx: Db, who: Principal, input: DraftWrite, quotas?: Quotas): Promise<Draft> {
  await enforceQuota(tx, who.tenantId, "drafts", quotas);
  const { environmentId, now } = input;
  const config = input.config ?? DEFAULT_DRAFT_CONFIG;
  // Locked: concurrent creates count one after the other, so the cap holds.
  const env = await requireEnvironment(tx, who.tenantId, environmentId, { lock: true });
  const [open] = await tx
    .select({ n: count() })
    .from(drafts)
    .where(and(eq(drafts.tenantId, who.tenantId), eq(drafts.environmentId, environmentId), gt(drafts.expiresAt, now)));
  if ((open?.n ?? 0) >= config.perEnvironment) {
    throw new ProblemError(
      409,
      `Environment ${environmentId} already has ${open?.n} open drafts, the limit (DRAFTS_PER_ENVIRONMENT) is ${config.perEnvironment}: promote or delete one first.`,
    );
  }
  const base = await revisionDocument(tx, who.tenantId, environmentId, env.currentRevision);
  const document = resolveDocument(base?.document ?? null, input.source);
  const id = await freshId(tx, who.tenantId, environmentId);
  forgetAgentState(tx, who.tenantId, environmentId); // its shadows join the desired state at commit
  const [row] = await tx
    .insert(drafts)
    .values({
      id,
      tenantId: who.tenantId,
      environmentId,
      baseRevision: env.currentRevision,
      document,
      comment: input.comment ?? "",
      author: who.subject,
      createdAt: now,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + config.ttlDays * DAY_MS),
    })
    .returning();
  await audit(tx, who, {
    action: "draft.create",
    targetType: "draft",
    targetId: id,
    after: { environmentId, baseRevision: env.currentRevision, source: sourceKind(input.source), changes: diff(base?.document ?? null, document) },
  });
  return row!;
}

const sourceKind = (s: DraftSource) => ("settings" in s ? "settings" : "preset" in s ? `preset:${s.preset}` : "controls");

/** Open (unexpired) drafts of an environment, oldest first. */
export async function listDrafts(tx: Db, tenantId: string, environmentId: string, now: Date): Promise<Draft[]> {
  await requireEnvironment(tx, tenantId, environmentId);
  return openDrafts(tx, tenantId, environmentId, now);
}

/** Open drafts without the environment check (the desired state's query already made it). */
export function openDrafts(tx: Db, tenantId: string, environmentId: string, now: Date): Promise<Draft[]> {
  return tx
    .select()
    .from(drafts)
    .where(and(eq(drafts.tenantId, tenantId), eq(drafts.environmentId, environmentId), gt(drafts.expiresAt, now)))
    .orderBy(asc(drafts.createdAt), asc(drafts.id));
}

export async function getDraft(tx: Db, tenantId: string, environmentId: string, id: string, now: Date): Promise<Draft> {
  await requireEnvironment(tx, tenantId, environmentId);
  return loadDraft(tx, tenantId, environmentId, id, now);
}

/**
 * A new document for the draft, and a fresh expiry. A whole document or a preset re-resolves the
 * draft against the CURRENT revision (it is rebased); a merge-patch of controls applies to the
 * draft's own document and keeps its base. The preview starts over: it described the old document.
 */
export async function updateDraft(tx: Db, who: Principal, input: DraftWrite & { id: string }): Promise<Draft> {
  const { environmentId, id, now } = input;
  const config = input.config ?? DEFAULT_DRAFT_CONFIG;
  const env = await requireEnvironment(tx, who.tenantId, environmentId);
  const draft = await loadDraft(tx, who.tenantId, environmentId, id, now, true);
  const rebase = !("controls" in input.source);
  const baseRevision = rebase ? env.currentRevision : draft.baseRevision;
  const base = rebase ? ((await revisionDocument(tx, who.tenantId, environmentId, baseRevision))?.document ?? null) : draft.document;
  const document = resolveDocument(base, input.source);
  forgetAgentState(tx, who.tenantId, environmentId);
  const [row] = await tx
    .update(drafts)
    .set({
      document,
      baseRevision,
      version: sql`${drafts.version} + 1`,
      comment: input.comment ?? draft.comment,
      updatedAt: now,
      expiresAt: new Date(now.getTime() + config.ttlDays * DAY_MS),
      preview: null,
      previewCollectedAt: null,
      previewAdmissions: null,
    })
    .where(and(eq(drafts.tenantId, who.tenantId), eq(drafts.id, id)))
    .returning();
  await audit(tx, who, {
    action: "draft.update",
    targetType: "draft",
    targetId: id,
    before: { baseRevision: draft.baseRevision },
    after: { environmentId, baseRevision, source: sourceKind(input.source), changes: diff(draft.document, document) },
  });
  return row!;
}

export async function deleteDraft(tx: Db, who: Principal, environmentId: string, id: string, now: Date): Promise<void> {
  await requireEnvironment(tx, who.tenantId, environmentId);
  const draft = await loadDraft(tx, who.tenantId, environmentId, id, now, true);
  await tx.delete(drafts).where(and(eq(drafts.tenantId, who.tenantId), eq(drafts.id, id)));
  forgetAgentState(tx, who.tenantId, environmentId);
  await audit(tx, who, {
    action: "draft.delete",
    targetType: "draft",
    targetId: id,
    before: { environmentId, baseRevision: draft.baseRevision, document: draft.document },
  });
}

/**
 * The draft becomes the environment's next revision (action settings.promote_draft, audited with
 * the revision) and is gone. If-Match must name the current revision, and the draft must be based
 * on it: a draft based on an older one is 412 with what changed since, so nobody promotes over a
 * change they have not seen (update the draft with a whole document or a preset to rebase it).
 */
export async function promoteDraft(
  tx: Db,
  who: Principal,
  input: { environmentId: string; id: string; ifMatch: string; comment?: string | undefined; now: Date },
): Promise<StoredRevision> {
  const { environmentId, id } = input;
  await requireEnvironment(tx, who.tenantId, environmentId, { lock: true }); // the same lock order as commitDerivedRevision
  const draft = await loadDraft(tx, who.tenantId, environmentId, id, input.now, true);
  const stored = await commitDerivedRevision(tx, who, {
    environmentId,
    expected: ifMatchRevision(input.ifMatch, { star: true }),
    action: "settings.promote_draft",
    async derive(current) {
      const currentRevision = current?.revision ?? 0;
      if (draft.baseRevision !== currentRevision) {
        const base = await revisionDocument(tx, who.tenantId, environmentId, draft.baseRevision);
        throw new ProblemError(
          412,
          `Draft ${id} is based on revision ${draft.baseRevision}, but the current revision is ${currentRevision}; \`changes\` lists what changed since.`,
          {
            headers: { etag: revisionEtag(currentRevision) },
            extensions: { baseRevision: draft.baseRevision, currentRevision, changes: diff(base?.document ?? null, current?.document ?? null) },
          },
        );
      }
      return { document: draft.document, comment: input.comment ?? (draft.comment || `promote draft ${id}`), detail: { draft: id } };
    },
  });
  await tx.delete(drafts).where(and(eq(drafts.tenantId, who.tenantId), eq(drafts.id, id)));
  return stored;
}
