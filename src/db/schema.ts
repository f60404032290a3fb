// Gatehouse's tables. Every tenant-owned table carries tenant_id: queries scope by it, and the
// row-level-security policies in the custom migration enforce it a second time.
// Changing a table here or in the two modules re-exported below? Run `npm run db:generate` and
// commit the new migration.
import { sql } from "drizzle-orm";
import { bigint, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import type { AgentStatusReport } from "../protocol/agent.ts";
import {
  bytea,
  createdAt,
  type environments,
  historyTenantId,
  type memberships,
  ofEnvironment,
  type Role,
  roleCheck,
  tenantId,
  type tenants,
} from "./schema-tenancy.ts";

export * from "./schema-tenancy.ts";
export * from "./schema-webhooks.ts";
export * from "./schema-denials.ts";
export * from "./schema-drafts.ts";
export * from "./schema-rollouts.ts";

export const settingsRevisions = pgTable(
  "settings_revisions",
  {
    tenantId: tenantId(),
    environmentId: uuid("environment_id").notNull(),
    revision: integer("revision").notNull(),
    document: jsonb("document").$type<unknown>().notNull(),
    author: text("author").notNull(),
    comment: text("comment").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.environmentId, t.revision] }), ofEnvironment("settings_revisions_environment_fk", t)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: tenantId(),
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    targetType: text("target_type").notNull(),
    targetId: text("target_id"),
    before: jsonb("before").$type<unknown>(),
    after: jsonb("after").$type<unknown>(),
    createdAt: createdAt(),
  },
  (t) => [index("audit_log_tenant_id_idx").on(t.tenantId, t.id.desc())],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    name: text("name").notNull(),
    role: text("role").$type<Role>().notNull(),
    // Public lookup id embedded in the key (ghk_<prefix>_<secret>); resolved via asSystem.
    prefix: text("prefix").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [check("api_keys_role_check", roleCheck("role")), index("api_keys_tenant_idx").on(t.tenantId)],
);

export const agentCredentials = pgTable(
  "agent_credentials",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    environmentId: uuid("environment_id").notNull(),
    prefix: text("prefix").notNull().unique(),
    secretHash: text("secret_hash").notNull(),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (t) => [ofEnvironment("agent_credentials_environment_fk", t), index("agent_credentials_environment_idx").on(t.tenantId, t.environmentId)],
);

/** One row per environment: the agent's last status report (its heartbeat), overwritten each time. */
export const agentStatus = pgTable(
  "agent_status",
  {
    environmentId: uuid("environment_id").primaryKey(),
    tenantId: tenantId(),
    report: jsonb("report").$type<AgentStatusReport>().notNull(),
    appliedRevision: integer("applied_revision"),
    desiredRevision: integer("desired_revision"),
    agentVersion: text("agent_version").notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    lastSyncAt: timestamp("last_sync_at", { withTimezone: true }),
    // The credential that sent the report (not a foreign key: the row outlives a revoked credential).
    credentialId: uuid("credential_id").notNull(),
    // sha256 of the report as a repeat is compared (services/agent-status.ts reportHash): the
    // status check compares it in the database, so a repeated report is one statement and the
    // stored report is never sent back. Null on rows written before it: compared as changed.
    reportHash: text("report_hash"),
  },
  (t) => [ofEnvironment("agent_status_environment_fk", t)],
);

/** The latest Gatekeeper audit report per environment (its history is in violations). */
export const auditReports = pgTable(
  "audit_reports",
  {
    environmentId: uuid("environment_id").primaryKey(),
    tenantId: tenantId(),
    /** The report as the agent sent it, JSON compressed by gzipJson (src/db/gzip-json.ts). */
    report: bytea("report").notNull(),
    totalViolations: integer("total_violations").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    collectedAt: timestamp("collected_at", { withTimezone: true }).notNull(),
    /**
     * When its ingest into the violation history finished; null while the chunks are applied
     * (src/services/audit-ingest.ts): a retry of the same report resumes it, a newer one replaces it.
     */
    ingestedAt: timestamp("ingested_at", { withTimezone: true }),
  },
  (t) => [ofEnvironment("audit_reports_environment_fk", t)],
);

export const VIOLATION_STATES = ["open", "resolved"] as const;
export type ViolationState = (typeof VIOLATION_STATES)[number];

/**
 * Every violation Gatehouse has seen, one row per identity: environment, constraint (kind,
 * name), resource (group, kind, namespace, name) and message, hashed into `fingerprint`. A
 * violation seen again after it was resolved reopens the same row (same id, `occurrences` + 1);
 * each opening and resolution is a row in violation_events.
 */
export const violations = pgTable(
  "violations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: historyTenantId(),
    environmentId: uuid("environment_id").notNull(),
    fingerprint: text("fingerprint").notNull(),
    constraintKind: text("constraint_kind").notNull(),
    constraintName: text("constraint_name").notNull(),
    control: text("control"),
    enforcementAction: text("enforcement_action").notNull(),
    resourceGroup: text("resource_group").notNull(),
    resourceVersion: text("resource_version").notNull(),
    resourceKind: text("resource_kind").notNull(),
    namespace: text("namespace").notNull(),
    name: text("name").notNull(),
    message: text("message").notNull(),
    state: text("state").$type<ViolationState>().notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    openedAt: timestamp("opened_at", { withTimezone: true }).notNull(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    occurrences: integer("occurrences").notNull().default(1),
    /** The collectedAt of the report that last opened, resolved or updated it (digests list by it). */
    changedAt: timestamp("changed_at", { withTimezone: true }),
  },
  (t) => [
    unique("violations_environment_fingerprint_unique").on(t.environmentId, t.fingerprint),
    check("violations_state_check", sql`state in ('open', 'resolved')`),
    ofEnvironment("violations_environment_fk", t),
    index("violations_tenant_opened_idx").on(t.tenantId, t.openedAt.desc(), t.id.desc()),
    // With the fingerprint: a chunk of an audit ingest reads the open violations of one
    // fingerprint range (audit-ingest.ts); on (environment, state) alone it read all of them.
    index("violations_environment_state_fingerprint_idx").on(t.environmentId, t.state, t.fingerprint),
    index("violations_environment_changed_idx").on(t.environmentId, t.changedAt),
  ],
);

/** A violation's history: each opening (first or again) and resolution, at the report's collectedAt. */
export const violationEvents = pgTable(
  "violation_events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: historyTenantId(),
    environmentId: uuid("environment_id").notNull(),
    violationId: uuid("violation_id")
      .notNull()
      .references(() => violations.id, { onDelete: "cascade" }),
    type: text("type").$type<"opened" | "resolved">().notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
  },
  (t) => [
    check("violation_events_type_check", sql`type in ('opened', 'resolved')`),
    // No key to environments of its own: an event goes (cascades) with its violation, whose key
    // does; one check per event is enough on the table an audit report writes most to.
    index("violation_events_violation_idx").on(t.violationId, t.id),
    index("violation_events_tenant_at_idx").on(t.tenantId, t.at),
  ],
);

/**
 * The last complete audit of each constraint in an environment (listed in full: not truncated,
 * already audited). A violation still open under it was in that audit, so its effective "last
 * seen" is the later of this and its own `last_seen_at`: an ingest writes only the rows whose
 * state changes, not the thousands merely seen again (see src/services/violations.ts).
 */
export const constraintAudits = pgTable(
  "constraint_audits",
  {
    environmentId: uuid("environment_id").notNull(),
    tenantId: tenantId(),
    constraintKind: text("constraint_kind").notNull(),
    constraintName: text("constraint_name").notNull(),
    completeAt: timestamp("complete_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.environmentId, t.constraintKind, t.constraintName] }), ofEnvironment("constraint_audits_environment_fk", t)],
);

/** Tables under row-level security (tenants by id, the rest by tenant_id). */
export const TENANT_TABLES = [
  "memberships",
  "environments",
  "settings_revisions",
  "audit_log",
  "api_keys",
  "agent_credentials",
  "agent_status",
  "audit_reports",
  "violations",
  "violation_events",
  "constraint_audits",
  "webhook_endpoints",
  "webhook_deliveries",
  "webhook_attempts",
  "offline_notices",
  "denials",
  "admission_events_seen",
  "drafts",
  "rollout_plans",
] as const;

export type Tenant = typeof tenants.$inferSelect;
export type Membership = typeof memberships.$inferSelect;
export type Environment = typeof environments.$inferSelect;
export type SettingsRevision = typeof settingsRevisions.$inferSelect;
export type AuditEntry = typeof auditLog.$inferSelect;
export type ApiKey = typeof apiKeys.$inferSelect;
export type AgentCredential = typeof agentCredentials.$inferSelect;
export type AgentStatus = typeof agentStatus.$inferSelect;
export type AuditReportRow = typeof auditReports.$inferSelect;
export type Violation = typeof violations.$inferSelect;
export type ViolationEvent = typeof violationEvents.$inferSelect;
