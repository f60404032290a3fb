// The agent protocol's admission events: what Gatekeeper's webhook refused, warned about or
// recorded in dryrun, read by the agent from the Events Gatekeeper emits with
// --emit-admission-events (pkg/webhook/policy.go, v3.23), and what the API server refused through
// a Gatekeeper-generated ValidatingAdmissionPolicy, read from the FailedCreate Events of the
// controllers whose Pods it refused (agent/vap-denials.ts) — sent in batches to
// POST /agent/v1/admission-events. Plain zod, like agent.ts: the agent imports it.
import { z } from "zod";

/** The Event reasons Gatekeeper's webhook uses, and the enforcement action each stands for. */
export const ADMISSION_REASONS = { FailedAdmission: "deny", WarningAdmission: "warn", DryrunViolation: "dryrun" } as const;
export type AdmissionReason = keyof typeof ADMISSION_REASONS;

/** Annotations Gatekeeper puts on each admission Event (pkg/logging/logging.go). */
export const EVENT_ANNOTATIONS = {
  process: "process",
  constraintName: "constraint_name",
  constraintKind: "constraint_kind",
  constraintAction: "constraint_action",
  resourceGroup: "resource_group",
  resourceVersion: "resource_api_version",
  resourceKind: "resource_kind",
  resourceNamespace: "resource_namespace",
  resourceName: "resource_name",
  username: "request_username",
} as const;

/**
 * Who refused: Gatekeeper's webhook (its own admission Event), or the API server through the
 * ValidatingAdmissionPolicy Gatekeeper generated (a controller's FailedCreate Event).
 */
export const ADMISSION_SOURCES = ["webhook", "apiserver"] as const;
export type AdmissionSource = (typeof ADMISSION_SOURCES)[number];

/** At most this many events in one POST; the agent sends more in several. */
export const MAX_ADMISSION_EVENTS = 500;

const Short = z.string().max(253);
const Iso = z.iso.datetime({ offset: true });

export const AdmissionEvent = z.strictObject({
  /** The Event's metadata.uid: the unit the API counts once. */
  uid: z.string().min(1).max(128),
  /** The Event's count (Kubernetes aggregates repeats into one Event): only growth adds. */
  count: z.int().min(1).max(2_147_483_647),
  firstSeenAt: Iso,
  lastSeenAt: Iso,
  action: z.enum(["deny", "warn", "dryrun"]),
  /** Absent from agents older than the field: they only read Gatekeeper's Events. */
  source: z.enum(ADMISSION_SOURCES).default("webhook"),
  constraintKind: z.string().min(1).max(100),
  constraintName: z.string().min(1).max(253),
  /** The refused object as admission saw it (a Pod's name is the one the API server generated). */
  resource: z.strictObject({ group: Short, version: Short, kind: z.string().min(1).max(100), namespace: Short, name: Short }),
  /** The top-level controller the agent resolved through ownerReferences; null when none or unreadable. */
  owner: z.strictObject({ kind: z.string().min(1).max(100), name: z.string().min(1).max(253) }).nullable(),
  username: z.string().max(512),
  /** The policy's text: Gatekeeper's message for this constraint, or the VAP's after "denied request: ". */
  message: z.string().max(8192),
});
export type AdmissionEvent = z.infer<typeof AdmissionEvent>;

export const AdmissionEventBatch = z.strictObject({ events: z.array(AdmissionEvent).min(1).max(MAX_ADMISSION_EVENTS) });
export type AdmissionEventBatch = z.infer<typeof AdmissionEventBatch>;
