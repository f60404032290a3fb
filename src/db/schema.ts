// Gatehouse's tables. Every tenant-owned table carries tenant_id: queries scope by it, and the
// row-level-security policies in the custom migration enforce it a second time.
// Changing this file? Run `npm run db:generate` and commit the new migration.
import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import type { AgentStatusReport, AuditReport } from "../protocol/agent.ts";

export const ROLES = ["admin", "editor", "viewer"] as const;
export type Role = (typeof ROLES)[number];

const roleCheck = (column: string) =>
  sql.raw(`${column} in (${ROLES.map((r) => `'${r}'`).join(", ")})`);

const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
const tenantId = () =>
  uuid("tenant_id")
    .notNull()
    .references(() => tenants.id, { onDelete: "cascade" });

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  slug: text("slug").notNull().unique(),
  name: text("name").notNull(),
  createdAt: createdAt(),
});

export const memberships = pgTable(
  "memberships",
  {
    tenantId: tenantId(),
    subject: text("subject").notNull(),
    role: text("role").$type<Role>().notNull(),
    createdAt: createdAt(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.subject] }),
    check("memberships_role_check", roleCheck("role")),
  ],
);

export const environments = pgTable(
  "environments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    labels: jsonb("labels").$type<Record<string, string>>().notNull().default({}),
    currentRevision: integer("current_revision").notNull().default(0),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique("environments_tenant_name_unique").on(t.tenantId, t.name),
    // Target of the composite foreign keys below: a child row can only point at an
    // environment of its own tenant, even though FK checks themselves bypass RLS.
    unique("environments_tenant_id_unique").on(t.tenantId, t.id),
  ],
);

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
  (t) => [
    primaryKey({ columns: [t.environmentId, t.revision] }),
    foreignKey({
      name: "settings_revisions_environment_fk",
      columns: [t.tenantId, t.environmentId],
      foreignColumns: [environments.tenantId, environments.id],
    }).onDelete("cascade"),
  ],
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
  (t) => [
    check("api_keys_role_check", roleCheck("role")),
    index("api_keys_tenant_idx").on(t.tenantId),
  ],
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
  (t) => [
    foreignKey({
      name: "agent_credentials_environment_fk",
      columns: [t.tenantId, t.environmentId],
      foreignColumns: [environments.tenantId, environments.id],
    }).onDelete("cascade"),
    index("agent_credentials_environment_idx").on(t.tenantId, t.environmentId),
  ],
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
  },
  (t) => [
    foreignKey({
      name: "agent_status_environment_fk",
      columns: [t.tenantId, t.environmentId],
      foreignColumns: [environments.tenantId, environments.id],
    }).onDelete("cascade"),
  ],
);

/** The latest Gatekeeper audit report per environment (history is a later issue). */
export const auditReports = pgTable(
  "audit_reports",
  {
    environmentId: uuid("environment_id").primaryKey(),
    tenantId: tenantId(),
    report: jsonb("report").$type<AuditReport>().notNull(),
    totalViolations: integer("total_violations").notNull(),
    receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
    collectedAt: timestamp("collected_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    foreignKey({
      name: "audit_reports_environment_fk",
      columns: [t.tenantId, t.environmentId],
      foreignColumns: [environments.tenantId, environments.id],
    }).onDelete("cascade"),
  ],
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
