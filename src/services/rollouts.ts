// Rollout plans (src/db/schema-rollouts.ts): one control moved dryrun → warn → deny, a step at a
// time. Each step is an ordinary revision (commitDerivedRevision, audited as
// settings.rollout_step), authored by gatehouse:rollout when the scheduler takes it and by the
// person when taken by hand, with a rollout.promoted webhook queued in the same transaction. When
// a step is due is decided in rollout-evidence.ts; the scheduler's pass is runRolloutPass.
import { and, desc, eq, sql } from "drizzle-orm";
import type { Principal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Database, Db } from "../db/client.ts";
import { environments, rolloutPlans, type RolloutPlan, type RolloutStep } from "../db/schema.ts";
import { controlById } from "../policies/index.ts";
import { requireEnvironment as lookUpEnvironment } from "./environments.ts";
import { commitDerivedRevision } from "./settings.ts";
import { audit, type Actor } from "./audit.ts";
import { ACTION_ORDER, gatherEvidence, stepStatus, type EnforcementAction, type StepStatus } from "./rollout-evidence.ts";
import { enqueueEvent } from "./webhook-outbox.ts";

/** Plans an environment keeps (active ones always; the newest finished ones up to this many in all): what GET lists. */
export const MAX_PLANS = 100;

/** The author of the revisions the scheduler makes, and the audit actor of its steps. */
export const ROLLOUT_ACTOR = "gatehouse:rollout";

const notFound = (id: string) => new ProblemError(404, `No rollout plan ${id} in this environment.`);
const invalid = (path: string, message: string) => new ProblemError(400, "The request body is invalid.", { errors: [{ path, message }] });

const requireEnvironment = (tx: Db, tenantId: string, environmentId: string, lock = false) => lookUpEnvironment(tx, tenantId, environmentId, { lock });

async function loadPlan(tx: Db, tenantId: string, environmentId: string, id: string, lock = false): Promise<RolloutPlan> {
  const q = tx
    .select()
    .from(rolloutPlans)
    .where(and(eq(rolloutPlans.tenantId, tenantId), eq(rolloutPlans.environmentId, environmentId), eq(rolloutPlans.id, id)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(id);
  return row;
}

export interface PlanView {
  plan: RolloutPlan;
  /** The control's action in the current revision (null: not enabled). */
  currentAction: EnforcementAction | null;
  /** The next step and whether it is due, evaluated now; null once the plan is not active. */
  next: StepStatus | null;
}

async function view(tx: Db, plan: RolloutPlan, now: Date, pollIntervalSeconds: number): Promise<PlanView> {
  const ev = await gatherEvidence(tx, plan, now, pollIntervalSeconds);
  return { plan, currentAction: ev.action, next: plan.state === "active" ? stepStatus(plan, ev, now) : null };
}

export interface CreatePlanInput {
  environmentId: string;
  control: string;
  steps: Pick<RolloutStep, "to" | "when">[];
  comment?: string | undefined;
  now: Date;
  pollIntervalSeconds: number;
}

/** A plan for one enabled control; its steps must each be stricter than the one before, starting above the control's current action. */
export async function createPlan(tx: Db, who: Principal, input: CreatePlanInput): Promise<PlanView> {
  const { environmentId, control, steps, now } = input;
  if (!controlById.has(control)) throw invalid("control", `no such control; controls: ${[...controlById.keys()].join(", ")}`);
  for (let i = 1; i < steps.length; i++) {
    if (ACTION_ORDER[steps[i]!.to] <= ACTION_ORDER[steps[i - 1]!.to])
      throw invalid(`steps[${i}].to`, `must be stricter than steps[${i - 1}].to (${steps[i - 1]!.to})`);
  }
  await requireEnvironment(tx, who.tenantId, environmentId, true);
  const ev = await gatherEvidence(tx, { tenantId: who.tenantId, environmentId, control }, now, input.pollIntervalSeconds);
  if (ev.action === null)
    throw new ProblemError(409, `${control} is not enabled in the current revision (${ev.revision}): enable it (in dryrun, say) before planning its rollout.`);
  if (ACTION_ORDER[steps[0]!.to] <= ACTION_ORDER[ev.action]) {
    throw new ProblemError(
      409,
      `${control} is already at ${ev.action} in revision ${ev.revision}; the first step must be stricter (steps[0].to is ${steps[0]!.to}).`,
    );
  }
  // The environment row is locked: concurrent creates for one control see each other here (the
  // unique index is the second lock).
  const [active] = await tx
    .select({ id: rolloutPlans.id })
    .from(rolloutPlans)
    .where(
      and(
        eq(rolloutPlans.tenantId, who.tenantId),
        eq(rolloutPlans.environmentId, environmentId),
        eq(rolloutPlans.control, control),
        eq(rolloutPlans.state, "active"),
      ),
    );
  if (active) throw new ProblemError(409, `${control} already has an active rollout plan (${active.id}) in this environment: cancel it first.`);
  const [row] = await tx
    .insert(rolloutPlans)
    .values({
      tenantId: who.tenantId,
      environmentId,
      control,
      steps: steps.map((s) => ({ to: s.to, when: s.when })),
      stepStartedAt: now,
      comment: input.comment ?? "",
      createdBy: who.subject,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  // Finished plans beyond the newest MAX_PLANS go (the audit log keeps their history), so a loop
  // of create and cancel cannot grow the table without bound.
  await tx.execute(sql`delete from rollout_plans where tenant_id = ${who.tenantId}::uuid and environment_id = ${environmentId}::uuid and state <> 'active'
    and id not in (select id from rollout_plans where tenant_id = ${who.tenantId}::uuid and environment_id = ${environmentId}::uuid order by created_at desc, id desc limit ${MAX_PLANS})`);
  await audit(tx, who, {
    action: "rollout.create",
    targetType: "rollout_plan",
    targetId: row!.id,
    after: { environmentId, control, from: ev.action, steps: row!.steps },
  });
  return view(tx, row!, now, input.pollIntervalSeconds);
}

/** The environment's plans, newest first (at most MAX_PLANS: one active per control, the rest history). */
export async function listPlans(tx: Db, tenantId: string, environmentId: string, now: Date, pollIntervalSeconds: number): Promise<PlanView[]> {
  await requireEnvironment(tx, tenantId, environmentId);
  const rows = await tx
    .select()
    .from(rolloutPlans)
    .where(and(eq(rolloutPlans.tenantId, tenantId), eq(rolloutPlans.environmentId, environmentId)))
    .orderBy(desc(rolloutPlans.createdAt), desc(rolloutPlans.id))
    .limit(MAX_PLANS);
  const out: PlanView[] = [];
  for (const r of rows) out.push(await view(tx, r, now, pollIntervalSeconds));
  return out;
}

export async function getPlan(tx: Db, tenantId: string, environmentId: string, id: string, now: Date, pollIntervalSeconds: number): Promise<PlanView> {
  await requireEnvironment(tx, tenantId, environmentId);
  return view(tx, await loadPlan(tx, tenantId, environmentId, id), now, pollIntervalSeconds);
}

const notActive = (p: RolloutPlan) => new ProblemError(409, `Rollout plan ${p.id} is ${p.state}.`);

export async function cancelPlan(tx: Db, who: Principal, environmentId: string, id: string, now: Date, pollIntervalSeconds: number): Promise<PlanView> {
  await requireEnvironment(tx, who.tenantId, environmentId);
  const plan = await loadPlan(tx, who.tenantId, environmentId, id, true);
  if (plan.state !== "active") throw notActive(plan);
  const [row] = await tx
    .update(rolloutPlans)
    .set({ state: "cancelled", updatedAt: now })
    .where(and(eq(rolloutPlans.tenantId, who.tenantId), eq(rolloutPlans.id, id)))
    .returning();
  await audit(tx, who, {
    action: "rollout.cancel",
    targetType: "rollout_plan",
    targetId: id,
    before: { state: "active", nextStep: plan.nextStep },
    after: { state: "cancelled" },
  });
  return view(tx, row!, now, pollIntervalSeconds);
}

/** Takes the next step now, whatever the evidence says: a person decided. */
export async function advancePlan(tx: Db, who: Principal, environmentId: string, id: string, now: Date, pollIntervalSeconds: number): Promise<PlanView> {
  await requireEnvironment(tx, who.tenantId, environmentId, true); // the lock order of commitDerivedRevision
  const plan = await loadPlan(tx, who.tenantId, environmentId, id, true);
  if (plan.state !== "active") throw notActive(plan);
  const row = await takeStep(tx, who, plan, now, "manual");
  return view(tx, row, now, pollIntervalSeconds);
}

/**
 * The plan's next step as a revision (none when the control is already at least that strict),
 * recorded on the plan, audited and announced (rollout.promoted). The plan row must be locked.
 */
async function takeStep(tx: Db, who: Actor, plan: RolloutPlan, now: Date, reason: "clean" | "scheduled" | "manual"): Promise<RolloutPlan> {
  const i = plan.nextStep;
  const step = plan.steps[i]!;
  let from: EnforcementAction | null = null;
  let revision: number | null = null;
  const env = await requireEnvironment(tx, who.tenantId, plan.environmentId, true);
  const principal = { kind: "user", subject: who.subject, tenantId: who.tenantId, tenantSlug: "", role: "editor" } satisfies Principal;
  // Derive from the current revision inside commitDerivedRevision (it locks and re-reads), unless nothing would change.
  const probe = await gatherEvidence(tx, plan, now, 1);
  if (probe.action === null)
    throw new ProblemError(409, `${plan.control} is not enabled in the current revision (${probe.revision}): enable it to continue the rollout.`);
  from = probe.action;
  if (ACTION_ORDER[probe.action] < ACTION_ORDER[step.to]) {
    const stored = await commitDerivedRevision(tx, principal, {
      environmentId: plan.environmentId,
      expected: env.currentRevision,
      action: "settings.rollout_step",
      async derive(current) {
        const doc = structuredClone(current!.document) as { controls: Record<string, Record<string, unknown>> };
        doc.controls[plan.control] = { ...doc.controls[plan.control], enforcementAction: step.to };
        return {
          document: doc,
          comment: `rollout ${plan.id}: ${plan.control} ${from} → ${step.to} (${reason})`,
          detail: { rolloutPlan: plan.id, control: plan.control, from, to: step.to, step: i },
        };
      },
    });
    revision = stored.revision;
  }
  const steps = plan.steps.map((s, k) => (k === i ? { ...s, takenAt: now.toISOString(), revision, by: who.subject } : s));
  const done = i + 1 >= steps.length;
  const [row] = await tx
    .update(rolloutPlans)
    .set({ steps, nextStep: i + 1, state: done ? "completed" : "active", stepStartedAt: now, evidenceGapAt: null, waiting: [], checkedAt: now, updatedAt: now })
    .where(and(eq(rolloutPlans.tenantId, who.tenantId), eq(rolloutPlans.id, plan.id)))
    .returning();
  await audit(tx, who, {
    action: "rollout.step",
    targetType: "rollout_plan",
    targetId: plan.id,
    after: { environmentId: plan.environmentId, control: plan.control, step: i, from, to: step.to, revision, reason, completed: done },
  });
  const [e] = await tx
    .select({ name: environments.name })
    .from(environments)
    .where(and(eq(environments.tenantId, who.tenantId), eq(environments.id, plan.environmentId)));
  await enqueueEvent(tx, {
    tenantId: who.tenantId,
    environmentId: plan.environmentId,
    type: "rollout.promoted",
    timestamp: now,
    now,
    orderingKey: `rollout:${plan.id}`,
    data: {
      plan: { id: plan.id, control: plan.control, state: row!.state },
      step: { index: i, from, to: step.to, revision, reason, by: who.subject },
      environment: { id: plan.environmentId, name: e?.name ?? "" },
    },
  });
  return row!;
}

export interface RolloutPassResult {
  checked: number;
  promoted: number;
  failed: number;
}

/**
 * One scheduler pass over every active plan (all tenants): each due step is taken, each waiting
 * one records why (and a gap in its evidence). One transaction per plan, its row locked with SKIP
 * LOCKED, so two API processes never take the same step twice, and one failing plan stops no other.
 */
export async function runRolloutPass(deps: {
  db: Database;
  now: () => Date;
  pollIntervalSeconds: number;
  onError?: (err: unknown, planId: string) => void;
}): Promise<RolloutPassResult> {
  const active = await deps.db.asSystem((tx) =>
    tx
      .select({ id: rolloutPlans.id, tenantId: rolloutPlans.tenantId })
      .from(rolloutPlans)
      .where(eq(rolloutPlans.state, "active"))
      .orderBy(rolloutPlans.checkedAt)
      .limit(1000),
  );
  const result: RolloutPassResult = { checked: 0, promoted: 0, failed: 0 };
  for (const { id, tenantId } of active) {
    try {
      await deps.db.withTenant(tenantId, async (tx) => {
        const [plan] = await tx
          .select()
          .from(rolloutPlans)
          .where(and(eq(rolloutPlans.tenantId, tenantId), eq(rolloutPlans.id, id), eq(rolloutPlans.state, "active")))
          .for("update", { skipLocked: true });
        if (!plan) return;
        const now = deps.now();
        result.checked++;
        const st = stepStatus(plan, await gatherEvidence(tx, plan, now, deps.pollIntervalSeconds), now);
        if (st.due) {
          await takeStep(tx, { tenantId, subject: ROLLOUT_ACTOR }, plan, now, "at" in plan.steps[plan.nextStep]!.when ? "scheduled" : "clean");
          result.promoted++;
          return;
        }
        await tx
          .update(rolloutPlans)
          .set({
            waiting: st.waiting,
            checkedAt: now,
            ...(st.evidenceMissing && "cleanForSeconds" in plan.steps[plan.nextStep]!.when ? { evidenceGapAt: now } : {}),
          })
          .where(and(eq(rolloutPlans.tenantId, tenantId), eq(rolloutPlans.id, id)));
      });
    } catch (err) {
      result.failed++;
      deps.onError?.(err, id);
    }
  }
  return result;
}
