// Webhooks: endpoints, the delivery outbox, every attempt, and the offline notices the dispatcher
// sweeps. Part of src/db/schema.ts, which re-exports it; drizzle-kit reads the tables through it.
import { sql } from "drizzle-orm";
import { bigint, boolean, check, doublePrecision, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, ofEnvironment, tenantId } from "./schema-tenancy.ts";

export const WEBHOOK_EVENT_TYPES = [
  "violation.opened",
  "violation.resolved",
  "violation.updated",
  "violations.changed",
  "environment.offline",
  "environment.online",
  "environment.degraded",
  "environment.recovered",
  "settings.applied",
  "admission.denied",
  "admission.warned",
  "draft.previewed",
  "rollout.promoted",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * How an endpoint gets violation events: `digest`, one violations.changed per audit report (what
 * it opened, resolved and updated, up to a cap, and a link to the rest); `per-violation`, one
 * violation.opened / .resolved / .updated each. The column's default keeps endpoints created
 * before digests existed on per-violation; the API creates new ones as digest.
 */
export const DELIVERY_MODES = ["digest", "per-violation"] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];
/** `standard`: the signed JSON envelope; `slack`: a Slack incoming-webhook message ({text, blocks}). */
export const WEBHOOK_FORMATS = ["standard", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

/**
 * A tenant's webhook endpoints. The signing secret (whsec_…) is stored as it is: the dispatcher
 * must sign with it, so a hash would not do; the column is readable only inside the tenant's
 * row-level-security scope (and by the dispatcher as the system), never listed by the API.
 */
export const webhookEndpoints = pgTable(
  "webhook_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    url: text("url").notNull(),
    description: text("description").notNull().default(""),
    events: jsonb("events").$type<WebhookEventType[]>().notNull(),
    /** null: every environment. */
    environmentIds: jsonb("environment_ids").$type<string[] | null>(),
    secret: text("secret").notNull(),
    /** The secret before the last rotation: it signs too (beside `secret`) until previous_secret_until. */
    previousSecret: text("previous_secret"),
    previousSecretUntil: timestamp("previous_secret_until", { withTimezone: true }),
    enabled: boolean("enabled").notNull().default(true),
    deliveryMode: text("delivery_mode").$type<DeliveryMode>().notNull().default("per-violation"),
    format: text("format").$type<WebhookFormat>().notNull().default("standard"),
    /** Violation events only of these controls / enforcement actions; null: all. */
    controls: jsonb("controls").$type<string[] | null>(),
    enforcementActions: jsonb("enforcement_actions").$type<("deny" | "warn" | "dryrun")[] | null>(),
    /** Requests per second at most; null: as fast as the dispatcher sends. Held back, never dropped. */
    rateLimitPerSecond: doublePrecision("rate_limit_per_second"),
    /** The rate limit's gate: no request to this endpoint starts before it. */
    nextSendAt: timestamp("next_send_at", { withTimezone: true }),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    failingSince: timestamp("failing_since", { withTimezone: true }),
    createdBy: text("created_by").notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("webhook_endpoints_tenant_idx").on(t.tenantId, t.createdAt.desc(), t.id.desc()),
    check("webhook_endpoints_delivery_mode_check", sql`delivery_mode in ('digest', 'per-violation')`),
    check("webhook_endpoints_format_check", sql`format in ('standard', 'slack')`),
    check("webhook_endpoints_rate_limit_check", sql`rate_limit_per_second is null or rate_limit_per_second > 0`),
  ],
);

export const DELIVERY_STATES = ["pending", "succeeded", "failed"] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * The transactional outbox: one row per event and endpoint, written in the transaction that
 * made the event. `id` is the Standard Webhooks `webhook-id`, the same on every attempt.
 * A dispatcher claims a due row by setting `lease_until` (FOR UPDATE SKIP LOCKED); a dispatcher
 * that dies leaves the lease to expire and the row is claimed again. Deliveries of one endpoint
 * with the same `ordering_key` (one violation's events, one environment's offline/online) are
 * sent in `seq` order: one is claimed only when no earlier one is pending.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: tenantId(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => webhookEndpoints.id, { onDelete: "cascade" }),
    eventType: text("event_type").notNull(),
    /** Queue order (an identity: created_at can tie within a transaction). */
    seq: bigint("seq", { mode: "number" }).notNull().generatedAlwaysAsIdentity(),
    /** null: unordered (settings.applied, webhook.ping). */
    orderingKey: text("ordering_key"),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    state: text("state").$type<DeliveryState>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull(),
    leaseUntil: timestamp("lease_until", { withTimezone: true }),
    lastStatus: integer("last_status"),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    completedAt: timestamp("completed_at", { withTimezone: true }),
  },
  (t) => [
    check("webhook_deliveries_state_check", sql`state in ('pending', 'succeeded', 'failed')`),
    index("webhook_deliveries_due_idx").on(t.nextAttemptAt).where(sql`state = 'pending'`),
    // The claim's "no earlier pending delivery with this key" check.
    index("webhook_deliveries_ordering_idx").on(t.endpointId, t.orderingKey, t.seq).where(sql`state = 'pending' and ordering_key is not null`),
    index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt.desc(), t.id.desc()),
    // The dispatcher's retention sweep: finished deliveries, oldest first.
    index("webhook_deliveries_completed_idx").on(t.completedAt).where(sql`state <> 'pending'`),
  ],
);

/** Every delivery attempt: when, the HTTP status (null when none came), latency, error. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    tenantId: tenantId(),
    deliveryId: uuid("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: timestamp("at", { withTimezone: true }).notNull(),
    statusCode: integer("status_code"),
    latencyMs: integer("latency_ms").notNull(),
    error: text("error"),
  },
  (t) => [unique("webhook_attempts_delivery_attempt_unique").on(t.deliveryId, t.attempt)],
);

/** The last agent heartbeat each environment.offline event was sent for: one event per outage. */
export const offlineNotices = pgTable(
  "offline_notices",
  {
    environmentId: uuid("environment_id").primaryKey(),
    tenantId: tenantId(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull(),
  },
  (t) => [ofEnvironment("offline_notices_environment_fk", t)],
);

/**
 * The dispatcher's own liveness, one row for every instance: when a pass last ran, and since when
 * passes have run without a gap (a gap: the API was down, and agents could not report either).
 * Not tenant data, so not under row-level security; only the dispatcher (as the system) uses it.
 */
export const dispatcherLiveness = pgTable(
  "dispatcher_liveness",
  {
    id: integer("id").primaryKey().default(1),
    lastPassAt: timestamp("last_pass_at", { withTimezone: true }).notNull(),
    upSince: timestamp("up_since", { withTimezone: true }).notNull(),
  },
  (t) => [check("dispatcher_liveness_single_row", sql`${t.id} = 1`)],
);

export type WebhookEndpoint = typeof webhookEndpoints.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
export type WebhookAttempt = typeof webhookAttempts.$inferSelect;
