// What a rollout step may rely on, and whether it is due. A step "when clean" is taken only on
// evidence: the agent is online and has applied the current revision, Gatekeeper's audit is
// fresh (the agent's heartbeat says so), the control's constraint has been audited, it has no open
// violation, and nothing has violated it — in an audit, or at admission as a warning or dryrun
// record — for the chosen time. Missing evidence never counts as clean: the step waits and says why,
// and the scheduler restarts the clean window after a gap (evidenceGapAt). Pure reads here; the
// writes are in rollouts.ts.
import { and, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { agentStatus, constraintAudits, type RolloutPlan, type RolloutStep } from "../db/schema.ts";
import { controlById, EnvironmentSettings } from "../policies/index.ts";
import { agentState } from "../routes/agent-common.ts";
import { currentSettings } from "./revisions.ts";

export type EnforcementAction = "dryrun" | "warn" | "deny";
export const ACTION_ORDER: Record<EnforcementAction, number> = { dryrun: 0, warn: 1, deny: 2 };

/** The facts about one control of one environment that a step looks at. */
export interface Evidence {
  revision: number;
  /** The control's effective action in the current revision; null when it is not enabled. */
  action: EnforcementAction | null;
  agent: { state: "never_connected" | "online" | "offline"; lastSeenAt: Date | null; appliedRevision: number | null };
  /** The agent's heartbeat view of Gatekeeper's audit; null when it reports none. */
  audit: { lastAuditAt: Date | null; fresh: boolean } | null;
  /** The last complete audit of the control's constraint that a report carried (its collectedAt). */
  constraintAuditedAt: Date | null;
  openViolations: number;
  /** One open violation, to name in the reason. */
  example: string | null;
  lastResolvedAt: Date | null;
  /** The last admission warning or dryrun record of the control (a new object the next step would refuse). */
  lastAdmissionAt: Date | null;
}

const maxDate = (...ds: (Date | null | undefined)[]) => ds.reduce<Date | null>((m, d) => (d && (!m || d.getTime() > m.getTime()) ? d : m), null);
const at = (v: unknown) => (v === null || v === undefined ? null : new Date(v as string));

export async function gatherEvidence(
  tx: Db,
  plan: Pick<RolloutPlan, "tenantId" | "environmentId" | "control">,
  now: Date,
  pollIntervalSeconds: number,
): Promise<Evidence> {
  const control = controlById.get(plan.control)!;
  const current = await currentSettings(tx, plan.tenantId, plan.environmentId);
  const doc = current ? EnvironmentSettings.parse(current.document) : null;
  const cs = (doc?.controls as Record<string, { enabled?: boolean; enforcementAction?: EnforcementAction } | undefined> | undefined)?.[plan.control];
  const action = cs?.enabled ? (cs.enforcementAction ?? doc!.enforcementAction) : null;
  const [status] = await tx
    .select({ lastSeenAt: agentStatus.lastSeenAt, appliedRevision: agentStatus.appliedRevision, report: agentStatus.report })
    .from(agentStatus)
    .where(and(eq(agentStatus.tenantId, plan.tenantId), eq(agentStatus.environmentId, plan.environmentId)));
  const [audited] = await tx
    .select({ completeAt: constraintAudits.completeAt })
    .from(constraintAudits)
    .where(
      and(
        eq(constraintAudits.tenantId, plan.tenantId),
        eq(constraintAudits.environmentId, plan.environmentId),
        eq(constraintAudits.constraintKind, control.kind),
        eq(constraintAudits.constraintName, control.slug),
      ),
    );
  // Violations carry the control's slug (the constraint's label); denials its id.
  const { rows } = await tx.execute<{ open: number; example: string | null; last_resolved: string | null; last_admission: string | null }>(sql`
    select
      (select count(*)::int from violations where tenant_id = ${plan.tenantId}::uuid and environment_id = ${plan.environmentId}::uuid and control = ${control.slug} and state = 'open') as open,
      (select resource_kind || ' ' || case when namespace = '' then '' else namespace || '/' end || name from violations
        where tenant_id = ${plan.tenantId}::uuid and environment_id = ${plan.environmentId}::uuid and control = ${control.slug} and state = 'open' order by opened_at limit 1) as example,
      (select max(resolved_at) from violations where tenant_id = ${plan.tenantId}::uuid and environment_id = ${plan.environmentId}::uuid and control = ${control.slug}) as last_resolved,
      (select max(last_seen_at) from denials where tenant_id = ${plan.tenantId}::uuid and environment_id = ${plan.environmentId}::uuid and control = ${plan.control} and action in ('warn', 'dryrun')) as last_admission`);
  const r = rows[0]!;
  const g = status?.report.gatekeeper.audit;
  const state = agentState(status?.lastSeenAt ?? null, now, pollIntervalSeconds);
  return {
    revision: current?.revision ?? 0,
    action,
    agent: { state: state === "degraded" ? "online" : state, lastSeenAt: status?.lastSeenAt ?? null, appliedRevision: status?.appliedRevision ?? null },
    audit: g ? { lastAuditAt: at(g.lastAuditAt), fresh: g.fresh } : null,
    constraintAuditedAt: audited?.completeAt ?? null,
    openViolations: r.open,
    example: r.example,
    lastResolvedAt: at(r.last_resolved),
    lastAdmissionAt: at(r.last_admission),
  };
}

/** Is the plan's next step due, and if not, why not (each reason a sentence a person can act on)? */
export interface StepStatus {
  step: number;
  to: RolloutStep["to"];
  due: boolean;
  waiting: string[];
  /** Only for a `cleanForSeconds` step: since when the control has been clean (null: it is not). */
  cleanSince: string | null;
  /** When the step becomes due if nothing changes (clean window end, or its `at`). */
  dueAt: string | null;
  /** The evidence is missing (not a violation): the scheduler restarts the clean window after it. */
  evidenceMissing: boolean;
}

export function stepStatus(plan: Pick<RolloutPlan, "steps" | "nextStep" | "stepStartedAt" | "evidenceGapAt" | "control">, ev: Evidence, now: Date): StepStatus {
  const i = plan.nextStep;
  const step = plan.steps[i]!;
  const base = { step: i, to: step.to, cleanSince: null, dueAt: null, evidenceMissing: false };
  const disabled = `${plan.control} is not enabled in the current revision (${ev.revision}): enable it to continue the rollout`;
  if (ev.action === null && !("cleanForSeconds" in step.when)) return { ...base, due: false, waiting: [disabled], evidenceMissing: true };
  if ("manual" in step.when) return { ...base, due: false, waiting: ["this step is taken by hand: POST …/advance"] };
  if ("at" in step.when) {
    const due = now.getTime() >= Date.parse(step.when.at);
    return { ...base, due, dueAt: step.when.at, waiting: due ? [] : [`scheduled for ${step.when.at}`] };
  }
  const waiting: string[] = [];
  let missing = false;
  const lack = (why: string) => {
    waiting.push(why);
    missing = true;
  };
  if (ev.action === null) lack(disabled);
  if (ev.agent.state === "never_connected") lack("the environment's agent has never reported");
  else if (ev.agent.state === "offline") lack(`the environment's agent is offline (last seen ${ev.agent.lastSeenAt!.toISOString()})`);
  else if (ev.agent.appliedRevision !== ev.revision)
    lack(`the agent has not applied revision ${ev.revision} yet (applied: ${ev.agent.appliedRevision ?? "none"})`);
  if (ev.agent.state !== "never_connected") {
    if (!ev.audit) lack("the agent reports no Gatekeeper audit (no managed constraint audited)");
    else if (!ev.audit.fresh) lack(`Gatekeeper's audit is stale (newest ${ev.audit.lastAuditAt?.toISOString() ?? "never"})`);
  }
  if (ev.openViolations === 0 && !ev.constraintAuditedAt) lack(`no audit report has covered ${plan.control}'s constraint yet`);
  if (ev.openViolations > 0)
    waiting.push(
      `${ev.openViolations} open violation${ev.openViolations === 1 ? "" : "s"} of ${plan.control} (${ev.example}): the clean window starts when they resolve`,
    );
  const cleanSince = ev.openViolations > 0 ? null : maxDate(plan.stepStartedAt, plan.evidenceGapAt, ev.lastResolvedAt, ev.lastAdmissionAt)!;
  let dueAt: Date | null = null;
  if (cleanSince) {
    dueAt = new Date(cleanSince.getTime() + step.when.cleanForSeconds * 1000);
    if (now.getTime() < dueAt.getTime()) waiting.push(`clean since ${cleanSince.toISOString()}; due at ${dueAt.toISOString()}`);
    // The audit that proves the end of the window must come after it (not a gap: the window stands).
    else if (ev.audit?.fresh && ev.audit.lastAuditAt && ev.audit.lastAuditAt.getTime() < dueAt.getTime())
      waiting.push(`waiting for an audit after ${dueAt.toISOString()} (newest ${ev.audit.lastAuditAt.toISOString()})`);
  }
  return {
    ...base,
    due: waiting.length === 0,
    waiting,
    cleanSince: cleanSince?.toISOString() ?? null,
    dueAt: dueAt?.toISOString() ?? null,
    evidenceMissing: missing,
  };
}
