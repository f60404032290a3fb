// Tenants, their members and environments, and the column helpers every other table is built
// from (tenant_id, the composite key to environments, bytea). Part of src/db/schema.ts, which
// re-exports it; drizzle-kit reads the tables through that file.
import { sql } from "drizzle-orm";
import { type AnyPgColumn, check, customType, foreignKey, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";

/** The roles, least privileged first (hasRole compares their positions); defined here, once, for the database and the app. */
export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

// Sorted: the check constraint's text stays the one the migrations created.
export const roleCheck = (column: string) =>
  sql.raw(
    `${column} in (${[...ROLES]
      .sort()
      .map((r) => `'${r}'`)
      .join(", ")})`,
  );

/** bytea: a Buffer from the Neon driver, a Uint8Array from PGlite. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({ dataType: () => "bytea" });

export const createdAt = () => timestamp("created_at", { withTimezone: true }).notNull().defaultNow();
export const tenantId = () =>
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
  (t) => [primaryKey({ columns: [t.tenantId, t.subject] }), check("memberships_role_check", roleCheck("role"))],
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

/**
 * A child row's composite foreign key to its environment: it can only point at an environment of
 * its own tenant (FK checks bypass RLS), and it goes when the environment goes.
 */
export const ofEnvironment = (name: string, t: { tenantId: AnyPgColumn; environmentId: AnyPgColumn }) =>
  foreignKey({ name, columns: [t.tenantId, t.environmentId], foreignColumns: [environments.tenantId, environments.id] }).onDelete("cascade");

/**
 * tenant_id of the high-volume history tables, without its own foreign key to tenants: the
 * composite key to environments (ofEnvironment) already proves the tenant, and a second check on
 * every one of thousands of rows an audit report writes is measurable (bench/audit).
 */
export const historyTenantId = () => uuid("tenant_id").notNull();
