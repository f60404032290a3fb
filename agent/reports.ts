// What the agent reports after applying: Gatekeeper's audit to the API (when it changed, or is
// due again) and as PolicyReports in the cluster, and the admission Events not yet sent (the
// webhook's, and the API server's refusals of controllers' Pods). Called from the reconcile loop (reconcile.ts).
import { markSent, ownerResolver, readAdmissionEvents, unsent } from "./admission-events.ts";
import { controllerResolver, readVapRefusals, templateKinds } from "./vap-denials.ts";
import { auditFingerprint, buildAuditReport } from "./audit.ts";
import type { LiveObject } from "./kube.ts";
import { syncPolicyReports } from "./policy-reports.ts";
import { withPreviewOwners } from "./preview-owners.ts";
import type { AgentState, ReconcileDeps } from "./reconcile.ts";

export async function pushAudit(deps: ReconcileDeps, state: AgentState, constraints: LiveObject[], now: Date): Promise<void> {
  const report = await withPreviewOwners(deps.kube, buildAuditReport(constraints, now));
  deps.metrics.auditViolations.reset();
  for (const c of report.constraints)
    deps.metrics.auditViolations.set({ constraint: `${c.kind}/${c.name}`, enforcement_action: c.enforcementAction }, c.totalViolations);
  const fingerprint = auditFingerprint(report);
  const due = !state.audit || state.audit.fingerprint !== fingerprint || now.getTime() - state.audit.sentAt >= deps.auditResendMs;
  if (!due) return;
  await deps.api.postAuditReport(report);
  state.audit = { fingerprint, sentAt: now.getTime() };
  deps.log.info({ constraints: report.constraints.length, violations: report.constraints.reduce((n, c) => n + c.totalViolations, 0) }, "audit report sent");
}

/**
 * Forwards Gatekeeper's admission Events, and the API server's refusals of controllers' Pods by
 * our generated policies (vap-denials.ts), that are new or grew since they were last sent.
 */
export async function pushAdmissionEvents(deps: ReconcileDeps, state: AgentState): Promise<void> {
  state.admission.resolveOwner ??= ownerResolver(deps.kube);
  state.admission.resolveController ??= controllerResolver(deps.kube);
  const templates = templateKinds(state.desired?.objects ?? []);
  const live = [
    ...(await readAdmissionEvents(deps.kube, deps.gatekeeperNamespace, state.admission.resolveOwner)),
    // No control at the API server, no refusal of ours to look for: the LIST is skipped.
    ...(templates.size > 0 ? await readVapRefusals(deps.kube, templates, state.admission.resolveController) : []),
  ];
  let sent = 0;
  for (const batch of unsent(live, state.admission.sent)) {
    await deps.api.postAdmissionEvents(batch);
    markSent(state.admission.sent, batch, live);
    sent += batch.length;
  }
  if (sent === 0) markSent(state.admission.sent, [], live);
  else deps.log.info({ events: sent }, "admission events sent");
}

/**
 * The audit as PolicyReports in the cluster (where their CRDs are installed). A report that
 * cannot be written is logged and counted, not an error of the pass: the policies themselves
 * are applied, and the API has the audit anyway.
 */
export async function writePolicyReports(deps: ReconcileDeps, constraints: LiveObject[]): Promise<number> {
  const r = await syncPolicyReports(deps.kube, constraints);
  if (r.errors.length > 0) {
    deps.metrics.errors.inc({ stage: "policyreport" }, r.errors.length);
    deps.log.warn({ errors: r.errors.slice(0, 20) }, "PolicyReports not written");
  }
  return r.writes;
}
