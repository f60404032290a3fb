// The shapes of /v1/webhooks (src/routes/webhooks.ts) for validation and the OpenAPI document,
// including every webhook payload. Not a route module: it registers nothing.
import { z } from "@hono/zod-openapi";
import { DELIVERY_MODES, DELIVERY_STATES, WEBHOOK_EVENT_TYPES, WEBHOOK_FORMATS } from "../db/schema.ts";
import { enforcementActions } from "../policies/common/knobs.ts";
import { catalogue } from "../policies/index.ts";
import { DIGEST_LIMIT } from "../services/violation-webhooks.ts";
import { plainText } from "../lib/text-schema.ts";
import { PAYLOAD_VERSION } from "../services/webhook-outbox.ts";
import { ViolationSchema } from "./violations.ts";
import { DenialSchema } from "./denials.ts";

const Iso = z.iso.datetime();
const EventType = z.enum(WEBHOOK_EVENT_TYPES).openapi("WebhookEventType");

export const Endpoint = z
  .object({
    id: z.uuid(),
    url: z.string(),
    description: z.string(),
    events: z.array(EventType),
    environmentIds: z.array(z.uuid()).nullable().openapi({ description: "Only events of these environments; null: every environment." }),
    enabled: z.boolean(),
    deliveryMode: z
      .enum(DELIVERY_MODES)
      .openapi({ description: "digest: one violations.changed per audit report; per-violation: one violation.opened / .resolved / .updated each." }),
    format: z
      .enum(WEBHOOK_FORMATS)
      .openapi({ description: "standard: the signed JSON envelope (WebhookPayload); slack: a Slack incoming-webhook message {text, blocks}." }),
    controls: z
      .array(z.string())
      .nullable()
      .openapi({ description: "Only violations of these controls (slugs, as violations name them); null: all.", example: ["privileged-containers"] }),
    enforcementActions: z.array(z.enum(enforcementActions)).nullable().openapi({ description: "Only violations with these enforcement actions; null: all." }),
    rateLimitPerSecond: z
      .number()
      .nullable()
      .openapi({ description: "At most this many requests per second to this endpoint; more wait in the queue (never dropped, order kept). null: no limit." }),
    failing: z.boolean().openapi({ description: "Several consecutive attempts failed; clears with the next success." }),
    failingSince: Iso.nullable(),
    consecutiveFailures: z.int(),
    createdBy: z.string(),
    createdAt: Iso,
    updatedAt: Iso,
  })
  .openapi("WebhookEndpoint");

export const NewEndpoint = Endpoint.extend({
  secret: z
    .string()
    .openapi({ description: "The Standard Webhooks signing secret (whsec_<base64>). Shown once.", example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }),
}).openapi("NewWebhookEndpoint");

const Name = plainText(500);
/** Violations name their control by its slug (the constraint's gatehouse.dev/control label). */
const CONTROL_SLUGS = new Set(catalogue.map((c) => c.slug));
const Fields = {
  url: z.string().trim().min(1).max(2048).openapi({
    description: "https:// (http:// only where WEBHOOK_ALLOW_HTTP=true); not a private, loopback or link-local address.",
    example: "https://hooks.example.com/gatehouse",
  }),
  description: Name.optional(),
  events: z
    .array(EventType)
    .min(1)
    .max(WEBHOOK_EVENT_TYPES.length)
    .refine((a) => new Set(a).size === a.length, "must not repeat an event"),
  environmentIds: z.array(z.uuid()).min(1).max(100).nullable().optional(),
  enabled: z.boolean().optional(),
  deliveryMode: z.enum(DELIVERY_MODES).optional().openapi({ description: "Default on create: digest." }),
  format: z.enum(WEBHOOK_FORMATS).optional().openapi({ description: "Default on create: standard." }),
  controls: z
    .array(z.string().refine((slug) => CONTROL_SLUGS.has(slug), "not a Gatehouse control (its slug, e.g. privileged-containers)"))
    .min(1)
    .max(100)
    .refine((a) => new Set(a).size === a.length, "must not repeat a control")
    .nullable()
    .optional(),
  enforcementActions: z
    .array(z.enum(enforcementActions))
    .min(1)
    .max(enforcementActions.length)
    .refine((a) => new Set(a).size === a.length, "must not repeat an action")
    .nullable()
    .optional(),
  rateLimitPerSecond: z
    .number()
    .positive()
    .max(1000)
    .nullable()
    .optional()
    .openapi({ description: "Default on create: 1 for the slack format (Slack accepts about one message a second), none otherwise.", example: 1 }),
};
export const CreateEndpoint = z.strictObject(Fields).openapi("CreateWebhookEndpoint");
export const UpdateEndpoint = z
  .strictObject({
    url: Fields.url.optional(),
    description: Fields.description,
    events: Fields.events.optional(),
    environmentIds: Fields.environmentIds,
    enabled: Fields.enabled,
    deliveryMode: Fields.deliveryMode,
    format: Fields.format,
    controls: Fields.controls,
    enforcementActions: Fields.enforcementActions,
    rateLimitPerSecond: Fields.rateLimitPerSecond,
  })
  .openapi("UpdateWebhookEndpoint");

const Attempt = z
  .object({ attempt: z.int(), at: Iso, statusCode: z.int().nullable(), latencyMs: z.int(), error: z.string().nullable() })
  .openapi("WebhookAttempt");
export const Delivery = z
  .object({
    id: z.uuid().openapi({ description: "The webhook-id header of every attempt." }),
    endpointId: z.uuid(),
    eventType: z.string(),
    state: z.enum(DELIVERY_STATES),
    attempts: z.int(),
    nextAttemptAt: Iso.nullable().openapi({ description: "When the next attempt is due (pending only)." }),
    lastStatus: z.int().nullable(),
    lastError: z.string().nullable(),
    createdAt: Iso,
    completedAt: Iso.nullable(),
    payload: z.unknown(),
  })
  .openapi("WebhookDelivery");
export const DeliveryDetail = Delivery.extend({ attemptLog: z.array(Attempt) }).openapi("WebhookDeliveryDetail");

// The payloads, for the OpenAPI document (not used to validate anything we send).
const EnvRef = z.object({ id: z.uuid(), name: z.string() });
const envelope = <T extends string, D extends z.ZodType>(type: T, data: D, name: string) =>
  z.object({ type: z.literal(type), version: z.literal(PAYLOAD_VERSION), timestamp: Iso, data }).openapi(name);
export const WebhookPayload = z
  .union([
    envelope("violation.opened", z.object({ violation: ViolationSchema, environment: EnvRef }), "ViolationOpenedEvent"),
    envelope("violation.resolved", z.object({ violation: ViolationSchema, environment: EnvRef }), "ViolationResolvedEvent"),
    envelope(
      "violation.updated",
      z.object({
        violation: ViolationSchema,
        environment: EnvRef,
        previous: z
          .object({ control: z.string().nullable(), enforcementAction: z.string(), resourceVersion: z.string() })
          .openapi({ description: "What the open violation showed before this report (an enforcement action switched from warn to deny, say)." }),
      }),
      "ViolationUpdatedEvent",
    ),
    envelope(
      "violations.changed",
      z.object({
        environment: EnvRef,
        collectedAt: Iso.openapi({ description: "The audit report's collectedAt." }),
        counts: z
          .object({ opened: z.int(), resolved: z.int(), updated: z.int() })
          .openapi({ description: "Everything the report changed that this endpoint hears of (after its events and filters)." }),
        opened: z.array(ViolationSchema).openapi({ description: `At most ${DIGEST_LIMIT}, newest opened first.` }),
        resolved: z.array(ViolationSchema).openapi({ description: `At most ${DIGEST_LIMIT}.` }),
        updated: z
          .array(ViolationSchema)
          .openapi({ description: `At most ${DIGEST_LIMIT}: open violations whose enforcement action, control or resource version changed.` }),
        truncated: z.boolean(),
        more: z
          .string()
          .nullable()
          .openapi({ description: "When truncated: GET /v1/violations filtered to this report's changes (environment, changedAt), to page through the rest." }),
      }),
      "ViolationsChangedEvent",
    ),
    envelope("environment.offline", z.object({ environment: EnvRef, lastSeenAt: Iso }), "EnvironmentOfflineEvent"),
    envelope("admission.denied", z.object({ denial: DenialSchema, environment: EnvRef }), "AdmissionDeniedEvent"),
    envelope("admission.warned", z.object({ denial: DenialSchema, environment: EnvRef }), "AdmissionWarnedEvent"),
    envelope("environment.degraded", z.object({ environment: EnvRef, reasons: z.array(z.string()).min(1) }), "EnvironmentDegradedEvent"),
    envelope("environment.recovered", z.object({ environment: EnvRef, previousReasons: z.array(z.string()) }), "EnvironmentRecoveredEvent"),
    envelope(
      "environment.online",
      z.object({
        environment: EnvRef,
        silentSince: Iso.openapi({ description: "The agent's last report before the silence environment.offline was sent for." }),
        lastSeenAt: Iso.openapi({ description: "The report that ended it." }),
      }),
      "EnvironmentOnlineEvent",
    ),
    envelope("settings.applied", z.object({ environment: EnvRef, revision: z.int(), previousRevision: z.int().nullable() }), "SettingsAppliedEvent"),
    envelope(
      "draft.previewed",
      z.object({
        draft: z.object({ id: z.uuid(), version: z.int() }),
        environment: EnvRef,
        first: z.boolean().openapi({ description: "The first evaluation of this version of the draft (else the counts changed)." }),
        controls: z.array(z.object({ control: z.string(), totalViolations: z.int(), previous: z.int().nullable() })),
      }),
      "DraftPreviewedEvent",
    ),
    envelope(
      "rollout.promoted",
      z.object({
        plan: z.object({ id: z.uuid(), control: z.string(), state: z.enum(["active", "completed", "cancelled"]) }),
        step: z.object({
          index: z.int(),
          from: z.enum(["dryrun", "warn", "deny"]),
          to: z.enum(["warn", "deny"]),
          revision: z.int().nullable().openapi({ description: "null: the control already was that strict." }),
          reason: z.enum(["clean", "scheduled", "manual"]),
          by: z.string(),
        }),
        environment: EnvRef,
      }),
      "RolloutPromotedEvent",
    ),
    envelope("webhook.ping", z.object({ endpointId: z.uuid() }), "WebhookPingEvent"),
  ])
  .openapi("WebhookPayload", {
    description:
      // biome-ignore lint/suspicious/noTemplateCurlyInString: it documents the shape of the signed string, it is not a template
      "The body of every webhook request (POST, application/json), signed per Standard Webhooks: headers webhook-id (the delivery id, the same on every retry: deduplicate on it), webhook-timestamp and webhook-signature (v1,<base64 HMAC-SHA256 of `${id}.${timestamp}.${body}`>; during a secret rotation's overlap two, space-separated, one per secret). One violation's events (opened, updated, resolved) and one environment's offline/online reach an endpoint in the order they happened.",
  });
