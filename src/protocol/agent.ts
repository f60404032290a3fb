// The agent protocol: the shapes the in-cluster agent and the API exchange. One source of truth,
// imported by the API routes (src/routes/agent-*.ts) and by the agent (agent/). Plain zod (no
// OpenAPI metadata) so the agent does not pull in the HTTP stack; routes add .openapi() names.
import { z } from "zod";

/** Every agent route lives under this prefix and accepts only agent credentials (gha_...). */
export const AGENT_API_PREFIX = "/agent/v1";
export const AGENT_PATHS = {
  desiredState: `${AGENT_API_PREFIX}/desired-state`,
  status: `${AGENT_API_PREFIX}/status`,
  auditReport: `${AGENT_API_PREFIX}/audit-report`,
  admissionEvents: `${AGENT_API_PREFIX}/admission-events`,
} as const;

/** The one server-side-apply field manager for everything Gatehouse owns in a cluster. */
export const FIELD_MANAGER = "gatehouse";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "gatehouse";
export const CONTROL_LABEL = "gatehouse.dev/control";
export const CONTENT_HASH_ANNOTATION = "gatehouse.dev/content-hash";
/**
 * A draft's shadow constraint (always dryrun, evaluated by Gatekeeper's audit for the draft's
 * preview) carries this label, valued with the draft's id, and is named
 * preview-<first 8 characters of the draft id>-<draft version>-<constraint>: the audit report
 * names constraints, not labels, so the API routes a constraint's results to its draft by name,
 * and the version makes an audit of an older version of the draft impossible to mistake for one
 * of the current document (each update replaces the shadows).
 */
export const SHADOW_LABEL = "gatehouse.dev/shadow-of-draft";
export const SHADOW_NAME_PREFIX = "preview-";
export const shadowNamePrefix = (draftId: string) => `${SHADOW_NAME_PREFIX}${draftId.slice(0, 8)}-`;
export const shadowName = (draftId: string, version: number, constraint: string) => `${shadowNamePrefix(draftId)}${version}-${constraint}`;

/** Default poll interval; the API tells the agent the one to use in every desired state. */
export const DEFAULT_POLL_INTERVAL_SECONDS = 30;
/** An environment is offline when its agent missed this many poll intervals. */
export const OFFLINE_AFTER_INTERVALS = 3;
/**
 * How far ahead of the API's clock an audit report's collectedAt may be (the cluster's clock may
 * run a little fast). Further ahead is refused: the stored report is ordered by it, and one from
 * the far future would outrank every real report after it.
 */
export const AUDIT_REPORT_MAX_AHEAD_SECONDS = 300;

const KubeObject = z
  .object({
    apiVersion: z.string(),
    kind: z.string(),
    metadata: z.object({ name: z.string() }).loose(),
  })
  .loose();
export type KubeObject = z.infer<typeof KubeObject>;

/** GET desired-state (200): what the agent must make true in its cluster. ETag/If-None-Match → 304. */
export const DesiredState = z.object({
  environmentId: z.uuid(),
  environmentName: z.string(),
  /** 0 when the environment has no settings yet: nothing is desired, so managed objects are pruned. */
  revision: z.int().min(0),
  /** In apply order: ConstraintTemplates, then Constraints, then ExpansionTemplates. */
  objects: z.array(KubeObject),
  agent: z.object({
    pollIntervalSeconds: z.int().min(1).max(3600),
    fieldManager: z.string(),
  }),
});
export type DesiredState = z.infer<typeof DesiredState>;

const Message = z.string().max(4096);
const Name = z.string().min(1).max(253);
const Version = z.string().max(100);

export const ObjectResult = z.strictObject({
  apiVersion: z.string().max(253),
  kind: z.string().min(1).max(100),
  name: Name,
  result: z.enum(["applied", "unchanged", "pruned", "error"]),
  message: Message.optional(),
});
export type ObjectResult = z.infer<typeof ObjectResult>;

export const TemplateHealth = z.strictObject({
  name: Name,
  /** ConstraintTemplate status.created. */
  created: z.boolean(),
  /** The constraint CRD Gatekeeper generates for it is Established. */
  crdEstablished: z.boolean(),
  /** status.byPod[].errors: Rego compile errors, per Gatekeeper pod. */
  errors: z.array(z.strictObject({ pod: z.string().max(253), code: z.string().max(253), message: Message })).max(100),
});
export type TemplateHealth = z.infer<typeof TemplateHealth>;

/** One ValidatingAdmissionPolicy (of a template) or binding (of a constraint) Gatekeeper should generate. */
export const VapObjectState = z.strictObject({
  /** The template or constraint that asks for it. */
  source: Name,
  /** What Gatekeeper names it: gatekeeper-<template>, gatekeeper-<kind>-<constraint>. */
  name: Name,
  /** From Gatekeeper's status (vapGenerationStatus, enforcementPointsStatus vap.k8s.io); pending: not (yet) reported. */
  state: z.enum(["generated", "pending", "error"]),
  message: Message.optional(),
});
export type VapObjectState = z.infer<typeof VapObjectState>;

/**
 * Is Gatekeeper working, not only installed? Both parts are optional (an older agent sends
 * neither) and null when the agent cannot tell; the API shows the environment `degraded` while
 * either is false (gatekeeperProblems).
 */
export const GatekeeperHealth = {
  /** Its admission webhook: ready endpoints behind the gatekeeper-webhook-service Service (EndpointSlices). null: no such Service, or not readable. */
  webhook: z
    .strictObject({ service: Name, readyEndpoints: z.int().min(0), ready: z.boolean() })
    .nullable()
    .optional(),
  /** Its audit: the newest status.auditTimestamp of the managed constraints, fresh while at most staleAfterSeconds old. null: no managed constraint. */
  audit: z
    .strictObject({ lastAuditAt: z.iso.datetime({ offset: true }).nullable(), staleAfterSeconds: z.int().min(1), fresh: z.boolean() })
    .nullable()
    .optional(),
  /** Whether its controller runs with --emit-admission-events (from its Deployment's args), which the denial history needs. null: no Deployment readable. */
  admissionEvents: z.boolean().nullable().optional(),
  /**
   * For the controls the API server enforces (enforcementPoint apiserver or both): whether
   * Gatekeeper generated their ValidatingAdmissionPolicies and bindings. `generated` is true when
   * every one is. Absent (or null): no control asks for the API server.
   */
  vap: z
    .strictObject({ generated: z.boolean(), policies: z.array(VapObjectState).max(200), bindings: z.array(VapObjectState).max(200) })
    .nullable()
    .optional(),
};

/** An audit older than this many Gatekeeper audit intervals is stale. */
export const AUDIT_STALE_AFTER_INTERVALS = 3;

/** Why Gatekeeper is not doing its job, from a status report's gatekeeper part: [] when it is (or nobody can tell). */
export function gatekeeperProblems(g: {
  installed: boolean;
  webhook?: z.infer<typeof GatekeeperHealth.webhook>;
  audit?: z.infer<typeof GatekeeperHealth.audit>;
  vap?: z.infer<typeof GatekeeperHealth.vap>;
}): string[] {
  if (!g.installed) return [];
  const out: string[] = [];
  if (g.webhook && !g.webhook.ready)
    out.push(`Gatekeeper's admission webhook has no ready endpoint (Service ${g.webhook.service}): admission requests are not checked`);
  if (g.audit && !g.audit.fresh) {
    out.push(
      `Gatekeeper's audit is stale: the newest constraint audit is ${g.audit.lastAuditAt ? `from ${g.audit.lastAuditAt}` : "missing"}, more than ${g.audit.staleAfterSeconds} s ago`,
    );
  }
  // Pending is normal for a while (Gatekeeper waits for the API server to cache the CRD); an error is not.
  for (const o of [...(g.vap?.policies ?? []), ...(g.vap?.bindings ?? [])].filter((o) => o.state === "error")) {
    out.push(`Gatekeeper could not generate ${o.name} for ${o.source}${o.message ? ` (${o.message})` : ""}: the API server does not enforce it`);
  }
  return out;
}

/** POST status: sent after every loop; it is also the agent's heartbeat. */
export const AgentStatusReport = z.strictObject({
  agentVersion: Version,
  kubernetesVersion: Version.nullable(),
  gatekeeper: z.strictObject({ installed: z.boolean(), version: Version.nullable(), ...GatekeeperHealth }),
  /** The revision whose objects are all applied (null until the first complete sync). */
  appliedRevision: z.int().min(0).nullable(),
  /** The revision the agent last fetched (it may still be failing to apply it). */
  desiredRevision: z.int().min(0).nullable(),
  lastSuccessfulSyncAt: z.iso.datetime().nullable(),
  /** Why the last loop did not complete, if it did not. */
  error: Message.nullable(),
  objects: z.array(ObjectResult).max(1000),
  templates: z.array(TemplateHealth).max(200),
});
export type AgentStatusReport = z.infer<typeof AgentStatusReport>;

/** An audit report's most constraints, and most violations listed per constraint. */
export const AUDIT_MAX_CONSTRAINTS = 1000;
export const AUDIT_MAX_VIOLATIONS = 100_000;

export const AuditViolation = z.strictObject({
  group: z.string().max(253),
  version: z.string().max(100),
  kind: z.string().min(1).max(100),
  namespace: z.string().max(253),
  name: Name,
  message: z.string().max(8192),
  enforcementAction: z.string().max(100),
  /** The controller-owned object's top-level workload (a Pod's Deployment, say), for shadow constraints' violations; absent or null: none resolved. */
  owner: z
    .strictObject({ kind: z.string().min(1).max(100), name: z.string().min(1).max(253) })
    .nullable()
    .optional(),
});
export type AuditViolation = z.infer<typeof AuditViolation>;

export const ConstraintAudit = z.strictObject({
  kind: z.string().min(1).max(100),
  name: Name,
  /** The Gatehouse control (the constraint's gatehouse.dev/control label). */
  control: z.string().max(100).nullable(),
  enforcementAction: z.string().max(100),
  /** status.auditTimestamp; null before Gatekeeper's first audit of this constraint. */
  auditTimestamp: z.iso.datetime({ offset: true }).nullable(),
  totalViolations: z.int().min(0),
  /** Gatekeeper keeps at most --constraint-violations-limit (default 20) per constraint. */
  truncated: z.boolean(),
  violations: z.array(AuditViolation).max(AUDIT_MAX_VIOLATIONS),
});
export type ConstraintAudit = z.infer<typeof ConstraintAudit>;

/** POST audit-report: every managed constraint's audit status, sent when it changed. */
export const AuditReport = z.strictObject({
  collectedAt: z.iso.datetime(),
  constraints: z.array(ConstraintAudit).max(AUDIT_MAX_CONSTRAINTS),
});
export type AuditReport = z.infer<typeof AuditReport>;
