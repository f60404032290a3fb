// Gatekeeper's audit results, as the API wants them: read from every managed constraint's status.
// Gatekeeper keeps only its latest audit run, capped per constraint (--constraint-violations-limit),
// so a report says when it was truncated; the API must not resolve what it could not see.
import { createHash } from "node:crypto";
import { CONTROL_LABEL, type AuditReport, type AuditViolation, type ConstraintAudit } from "../src/protocol/agent.ts";
import type { LiveObject } from "./kube.ts";

interface ConstraintStatus {
  auditTimestamp?: string;
  totalViolations?: number;
  violations?: { group?: string; version?: string; kind?: string; namespace?: string; name?: string; message?: string; enforcementAction?: string }[];
}

/**
 * The API refuses U+0000 and unpaired surrogates (PostgreSQL cannot store them), and one such
 * character in a message a policy echoed from a pod spec must not cost the whole report: each
 * becomes U+FFFD.
 */
const storable = (s: string | undefined) => (s ?? "").toWellFormed().replaceAll("\0", "\uFFFD");

export function constraintAudit(c: LiveObject): ConstraintAudit {
  const status = (c.status ?? {}) as ConstraintStatus;
  const spec = (c.spec ?? {}) as { enforcementAction?: string };
  const violations: AuditViolation[] = (status.violations ?? []).map((v) => ({
    group: storable(v.group),
    version: storable(v.version),
    kind: storable(v.kind),
    namespace: storable(v.namespace),
    name: storable(v.name),
    message: storable(v.message),
    enforcementAction: v.enforcementAction ?? spec.enforcementAction ?? "deny",
  }));
  const total = status.totalViolations ?? violations.length;
  return {
    kind: c.kind ?? "",
    name: c.metadata?.name ?? "",
    control: c.metadata?.labels?.[CONTROL_LABEL] ?? null,
    enforcementAction: spec.enforcementAction ?? "deny",
    auditTimestamp: status.auditTimestamp ?? null,
    totalViolations: total,
    truncated: total > violations.length,
    violations,
  };
}

export function buildAuditReport(constraints: LiveObject[], now: Date): AuditReport {
  const list = constraints.map(constraintAudit).sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name));
  return { collectedAt: now.toISOString(), constraints: list };
}

/**
 * What makes a report worth sending: its violations and whether each constraint has been audited
 * at all — not the timestamps, which move on every audit run even when nothing changed.
 */
export function auditFingerprint(report: AuditReport): string {
  const essence = report.constraints.map((c) => [
    c.kind,
    c.name,
    c.enforcementAction,
    c.auditTimestamp !== null,
    c.totalViolations,
    c.truncated,
    c.violations.map((v) => [v.group, v.kind, v.namespace, v.name, v.message, v.enforcementAction]).sort(),
  ]);
  return createHash("sha256").update(JSON.stringify(essence)).digest("hex");
}
