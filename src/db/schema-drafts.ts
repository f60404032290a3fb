// Drafts: proposed settings documents of an environment, evaluated in the cluster as shadow
// (dryrun) constraints before anyone promotes one to a revision (src/services/drafts.ts). Part of
// src/db/schema.ts, which re-exports it; drizzle-kit reads the table through that file.
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { createdAt, ofEnvironment, tenantId } from "./schema-tenancy.ts";

export const drafts = pgTable(
  "drafts",
  {
    id: uuid("id").primaryKey(),
    tenantId: tenantId(),
    environmentId: uuid("environment_id").notNull(),
    /** The revision the document was resolved against (0: the environment had none). */
    baseRevision: integer("base_revision").notNull(),
    /** The whole resolved document, normalised (defaults filled) as a revision would store it. */
    document: jsonb("document").$type<unknown>().notNull(),
    /** 1 when created, + 1 on every update: names the document in the agents' desired-state cache. */
    version: integer("version").notNull().default(1),
    comment: text("comment").notNull().default(""),
    author: text("author").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** The shadow constraints' audit results from the agent's latest report (DraftPreview), or null. */
    preview: jsonb("preview").$type<unknown>(),
    previewCollectedAt: timestamp("preview_collected_at", { withTimezone: true }),
    /** Admission events of this version's shadow constraints: new objects the draft would refuse (StoredAdmissions), or null. */
    previewAdmissions: jsonb("preview_admissions").$type<unknown>(),
  },
  (t) => [ofEnvironment("drafts_environment_fk", t), index("drafts_environment_idx").on(t.tenantId, t.environmentId, t.expiresAt)],
);

export type Draft = typeof drafts.$inferSelect;
