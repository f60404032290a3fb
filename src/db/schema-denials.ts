// The admission-denial history: what Gatekeeper's webhook refused (or warned about, or recorded in
// dryrun) at admission, and what the API server refused through a generated ValidatingAdmissionPolicy
// when a controller made the Pod, per environment — the refusals nobody saw at a terminal, because a
// controller made the request. One row per (environment, action, constraint, namespace, workload):
// a ReplicaSet retrying every few seconds is one row with a growing count, not thousands.
import { sql } from "drizzle-orm";
import { check, index, integer, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import type { AdmissionSource } from "../protocol/admission.ts";
import { historyTenantId, ofEnvironment } from "./schema-tenancy.ts";

export const ADMISSION_ACTIONS = ["deny", "warn", "dryrun"] as const;
export type AdmissionAction = (typeof ADMISSION_ACTIONS)[number];

export const denials = pgTable(
  "denials",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: historyTenantId(),
    environmentId: uuid("environment_id").notNull(),
    action: text("action").$type<AdmissionAction>().notNull(),
    /** Who refused, as of the latest event: Gatekeeper's webhook, or the API server (a generated VAP). */
    source: text("source").$type<AdmissionSource>().notNull().default("webhook"),
    /** The Gatehouse control; null for a constraint Gatehouse does not manage. */
    control: text("control"),
    constraintKind: text("constraint_kind").notNull(),
    constraintName: text("constraint_name").notNull(),
    namespace: text("namespace").notNull(),
    /** The top-level workload (Deployment, CronJob, …), or the object itself when it has none. */
    workloadKind: text("workload_kind").notNull(),
    workloadName: text("workload_name").notNull(),
    /** The object last refused (a Pod's generated name: it never existed). */
    objectKind: text("object_kind").notNull(),
    objectName: text("object_name").notNull(),
    /** Who asked: a person, or a controller's ServiceAccount. */
    username: text("username").notNull(),
    message: text("message").notNull(),
    count: integer("count").notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    /** The last admission.denied / admission.warned webhook for this row (coalescing), if any. */
    notifiedAt: timestamp("notified_at", { withTimezone: true }),
    notifiedMessage: text("notified_message"),
    notifiedCount: integer("notified_count").notNull().default(0),
  },
  (t) => [
    ofEnvironment("denials_environment_fk", t),
    unique("denials_key_unique").on(t.environmentId, t.action, t.constraintName, t.namespace, t.workloadKind, t.workloadName),
    check("denials_action_check", sql`action in ('deny', 'warn', 'dryrun')`),
    check("denials_source_check", sql`source in ('webhook', 'apiserver')`),
    index("denials_tenant_last_seen_idx").on(t.tenantId, t.lastSeenAt.desc(), t.id.desc()),
    index("denials_environment_last_seen_idx").on(t.environmentId, t.lastSeenAt),
  ],
);

/**
 * The count of each Kubernetes Event already folded into a denial, so that a batch sent twice (an
 * agent restart, a retried request) adds nothing: only a larger count adds the difference.
 */
export const admissionEventsSeen = pgTable(
  "admission_events_seen",
  {
    tenantId: historyTenantId(),
    environmentId: uuid("environment_id").notNull(),
    eventUid: text("event_uid").notNull(),
    count: integer("count").notNull(),
    denialId: uuid("denial_id")
      .notNull()
      .references(() => denials.id, { onDelete: "cascade" }),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.environmentId, t.eventUid] }),
    ofEnvironment("admission_events_seen_environment_fk", t),
    index("admission_events_seen_denial_idx").on(t.denialId),
  ],
);

export type Denial = typeof denials.$inferSelect;
