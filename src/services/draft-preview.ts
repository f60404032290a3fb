// A draft's preview: what Gatekeeper's audit found for its shadow constraints. The agent reports
// shadow constraints with every other managed constraint; the audit-report route splits them off
// (splitShadows) so they never open violations or queue webhooks, and records them on their drafts
// (recordPreviews). draftPreview answers per control, matching each listed object against the open
// violations of the same control under the current settings: already violating, or new.
import { and, eq, gt, inArray } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { drafts, environments, violations, type Draft } from "../db/schema.ts";
import { catalogue } from "../policies/catalogue.ts";
import { admittedObjects, type AdmittedObject } from "./draft-admissions.ts";
import { enqueueEvent } from "./webhook-outbox.ts";
import { enabledControls, EnvironmentSettings } from "../policies/index.ts";
import { SHADOW_NAME_PREFIX, shadowName, type AuditReport, type ConstraintAudit } from "../protocol/agent.ts";

/** What a draft keeps from the latest report: its shadow constraints' audits. */
export interface StoredPreview {
  collectedAt: string;
  constraints: ConstraintAudit[];
}

/** The report without shadow constraints (for the violation history), and the shadow ones. */
export function splitShadows(report: AuditReport): { report: AuditReport; shadows: ConstraintAudit[] } {
  const shadows = report.constraints.filter((c) => c.name.startsWith(SHADOW_NAME_PREFIX));
  if (shadows.length === 0) return { report, shadows };
  return { report: { ...report, constraints: report.constraints.filter((c) => !c.name.startsWith(SHADOW_NAME_PREFIX)) }, shadows };
}

/** Findings per audited shadow constraint (by control id): what draft.previewed reports. */
function counts(p: StoredPreview | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const c of p?.constraints ?? []) if (c.auditTimestamp !== null) out.set(controlBySlug.get(c.control ?? "") ?? c.name, c.totalViolations);
  return out;
}
const controlBySlug = new Map(catalogue.map((c) => [c.slug, c.id]));

/**
 * Each open draft keeps the audits of its current version's shadow constraints from this report
 * (an audit of an older version's shadows describes the previous document, and has other names).
 * Call only for a report that was stored (the newest), as the violation history does. A draft
 * whose counts this report changes (or first evaluates) gets a draft.previewed webhook.
 */
export async function recordPreviews(
  tx: Db,
  args: { tenantId: string; environmentId: string; shadows: ConstraintAudit[]; collectedAt: Date; now: Date },
): Promise<number> {
  const open = await tx
    .select({ id: drafts.id, version: drafts.version, preview: drafts.preview })
    .from(drafts)
    .where(and(eq(drafts.tenantId, args.tenantId), eq(drafts.environmentId, args.environmentId), gt(drafts.expiresAt, args.now)));
  let recorded = 0;
  for (const d of open) {
    const prefix = shadowName(d.id, d.version, "");
    const constraints = args.shadows.filter((c) => c.name.startsWith(prefix) && c.auditTimestamp !== null);
    const preview: StoredPreview = { collectedAt: args.collectedAt.toISOString(), constraints };
    await tx
      .update(drafts)
      .set({ preview, previewCollectedAt: args.collectedAt })
      .where(and(eq(drafts.tenantId, args.tenantId), eq(drafts.id, d.id)));
    recorded++;
    await notifyPreviewed(tx, args, { id: d.id, version: d.version }, counts(d.preview as StoredPreview | null), counts(preview));
  }
  return recorded;
}

async function notifyPreviewed(
  tx: Db,
  args: { tenantId: string; environmentId: string; now: Date },
  draft: { id: string; version: number },
  before: Map<string, number>,
  after: Map<string, number>,
) {
  if (after.size === 0) return;
  const changed = after.size !== before.size || [...after].some(([k, n]) => before.get(k) !== n);
  if (!changed) return;
  const [env] = await tx
    .select({ name: environments.name })
    .from(environments)
    .where(and(eq(environments.tenantId, args.tenantId), eq(environments.id, args.environmentId)));
  await enqueueEvent(tx, {
    tenantId: args.tenantId,
    environmentId: args.environmentId,
    type: "draft.previewed",
    timestamp: args.now,
    now: args.now,
    orderingKey: `draft:${draft.id}`,
    data: {
      draft,
      environment: { id: args.environmentId, name: env?.name ?? "" },
      first: before.size === 0,
      controls: [...after]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([control, totalViolations]) => ({ control, totalViolations, previous: before.get(control) ?? null })),
    },
  });
}

export interface PreviewViolation {
  kind: string;
  namespace: string;
  name: string;
  message: string;
  /** Also an open violation of the same control under the current settings. */
  alreadyViolating: boolean;
  /** The top-level controller of a controller-owned object (a Pod's Deployment), as the agent resolved it; null when none. */
  owner: { kind: string; name: string } | null;
}

export interface ControlPreview {
  control: string;
  constraint: { kind: string; name: string };
  /** What the control would do once the draft is promoted (its shadow only ever records). */
  enforcementAction: string;
  evaluated: boolean;
  auditTimestamp: string | null;
  /** Exact: Gatekeeper's totalViolations, which counts findings (a pod with two privileged containers is two); null until evaluated. */
  totalViolations: number | null;
  /** The listed violations are capped by Gatekeeper's --constraint-violations-limit. */
  truncated: boolean;
  alreadyViolating: number;
  new: number;
  /** One entry per listed object (alreadyViolating / new count these). */
  violations: PreviewViolation[];
  /** New objects the draft would refuse: admitted since the shadow existed, recorded by it at admission (draft-admissions.ts). */
  admissions: AdmittedObject[];
}

export interface DraftPreview {
  draftId: string;
  /** Every enabled control of the draft has been evaluated by an audit of its current version. */
  evaluated: boolean;
  /** collectedAt of the report the preview comes from; null before the first. */
  collectedAt: string | null;
  controls: ControlPreview[];
}

const key = (kind: string, namespace: string, name: string) => JSON.stringify([kind, namespace, name]);

export async function draftPreview(tx: Db, draft: Draft): Promise<DraftPreview> {
  const stored = draft.preview as StoredPreview | null;
  const settings = EnvironmentSettings.parse(draft.document);
  const enabled = enabledControls(settings);
  const slugs = enabled.map((e) => e.control.slug);
  const open =
    slugs.length === 0
      ? []
      : await tx
          .select({ control: violations.control, kind: violations.resourceKind, namespace: violations.namespace, name: violations.name })
          .from(violations)
          .where(
            and(
              eq(violations.tenantId, draft.tenantId),
              eq(violations.environmentId, draft.environmentId),
              eq(violations.state, "open"),
              inArray(violations.control, slugs),
            ),
          );
  const existing = new Set(open.map((v) => `${v.control}|${key(v.kind, v.namespace, v.name)}`));
  const controls = enabled.map(({ control, settings: s }): ControlPreview => {
    const name = shadowName(draft.id, draft.version, control.slug);
    const audit = stored?.constraints.find((c) => c.name === name && c.kind === control.kind);
    const base = { control: control.id, constraint: { kind: control.kind, name }, enforcementAction: s.enforcementAction ?? settings.enforcementAction };
    const admissions = admittedObjects(draft, name);
    if (!audit)
      return {
        ...base,
        evaluated: false,
        auditTimestamp: null,
        totalViolations: null,
        truncated: false,
        alreadyViolating: 0,
        new: 0,
        violations: [],
        admissions,
      };
    // One entry per object: a pod with several findings is one object the control would refuse.
    const seen = new Map<string, PreviewViolation>();
    for (const v of audit.violations) {
      const k = key(v.kind, v.namespace, v.name);
      if (!seen.has(k))
        seen.set(k, {
          kind: v.kind,
          namespace: v.namespace,
          name: v.name,
          message: v.message,
          alreadyViolating: existing.has(`${control.slug}|${k}`),
          owner: v.owner ?? null,
        });
    }
    const list = [...seen.values()];
    const already = list.filter((v) => v.alreadyViolating).length;
    return {
      ...base,
      evaluated: true,
      auditTimestamp: audit.auditTimestamp,
      totalViolations: audit.totalViolations,
      truncated: audit.truncated,
      alreadyViolating: already,
      new: list.length - already,
      violations: list,
      admissions,
    };
  });
  return { draftId: draft.id, evaluated: controls.every((c) => c.evaluated), collectedAt: stored?.collectedAt ?? null, controls };
}
