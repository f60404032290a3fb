// Rollout plans: one control of one environment moved dryrun → warn → deny in steps, each taken
// when the audit has been clean long enough, at a chosen time, or by hand (src/services/rollouts.ts).
// Part of src/db/schema.ts, which re-exports it; drizzle-kit reads the table through that file.
import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, ofEnvironment, tenantId } from "./schema-tenancy.ts";

export const ROLLOUT_STATES = ["active", "completed", "cancelled"] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

/** When a step is taken: clean for this long, at this time, or only by hand. */
export type RolloutWhen = { cleanForSeconds: number } | { at: string } | { manual: true };

/** One step of a plan; takenAt/revision/by are filled when it is taken. */
export interface RolloutStep {
  to: "warn" | "deny";
  when: RolloutWhen;
  takenAt?: string;
  /** The revision the step made; null when the control already was at `to` (nothing to change). */
  revision?: number | null;
  by?: string;
}

export const rolloutPlans = pgTable(
  "rollout_plans",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    environmentId: uuid("environment_id").notNull(),
    /** The control's id (privilegedContainers), as in the settings document. */
    control: text("control").notNull(),
    steps: jsonb("steps").$type<RolloutStep[]>().notNull(),
    /** Index of the next step to take; steps.length once completed. */
    nextStep: integer("next_step").notNull().default(0),
    state: text("state").$type<RolloutState>().notNull().default("active"),
    /** Where the next step's clean window may start at the earliest: creation, or the previous step. */
    stepStartedAt: timestamp("step_started_at", { withTimezone: true }).notNull(),
    /** The last time the scheduler found the evidence missing (agent offline, audit stale): the clean window restarts after it. */
    evidenceGapAt: timestamp("evidence_gap_at", { withTimezone: true }),
    /** What the scheduler last saw: why the next step waits (empty: it was taken or is due). */
    waiting: jsonb("waiting").$type<string[]>().notNull().default(sql`'[]'::jsonb`),
    checkedAt: timestamp("checked_at", { withTimezone: true }),
    comment: text("comment").notNull().default(""),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    ofEnvironment("rollout_plans_environment_fk", t),
    check("rollout_plans_state_check", sql`state in ('active', 'completed', 'cancelled')`),
    // One active plan per control: two would race each other's steps.
    uniqueIndex("rollout_plans_active_control_idx").on(t.environmentId, t.control).where(sql`state = 'active'`),
    index("rollout_plans_environment_idx").on(t.tenantId, t.environmentId, t.createdAt),
    // The scheduler's scan: every active plan, across tenants.
    index("rollout_plans_active_idx").on(t.state).where(sql`state = 'active'`),
  ],
);

export type RolloutPlan = typeof rolloutPlans.$inferSelect;
