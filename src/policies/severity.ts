// How much a control's finding matters, so that where Gatehouse lists findings of several controls
// (the denial history, its webhooks, the console) the worst can come first: a privileged container
// or a host namespace hands over the node; a missing seccomp profile is hardening left undone.
// One table, per control: every finding of a control has its control's severity.
//
// What Gatehouse cannot order (README "Why was my deploy refused?"): Gatekeeper's webhook sorts a
// request's results by enforcement action, then by message text (frameworks pkg/types
// Responses.Results), so kubectl lists them alphabetically; the API server stops at the first
// ValidatingAdmissionPolicy that refuses.
import { catalogue } from "./catalogue.ts";

export const SEVERITIES = ["critical", "high", "medium"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** By slug. critical: the pod reaches the node; high: less confinement than the runtime's default; medium: hardening. */
export const CONTROL_SEVERITY: Readonly<Record<string, Severity>> = Object.freeze({
  // The node's processes, network, files or devices (Pod Security Standards baseline).
  "privileged-containers": "critical",
  "host-namespaces": "critical",
  "host-network-ports": "critical",
  "host-paths": "critical",
  "windows-host-process": "critical",
  // Wider than the container runtime's default confinement (baseline).
  capabilities: "high",
  "proc-mount": "high",
  selinux: "high",
  apparmor: "high",
  sysctls: "high",
  "flexvolume-drivers": "high",
  "probe-hosts": "high",
  // Hardening beyond the defaults (restricted).
  "volume-types": "medium",
  "privilege-escalation": "medium",
  "users-and-groups": "medium",
  seccomp: "medium",
  "read-only-root-filesystem": "medium",
});

/** The severity of the control with this id (`privilegedContainers`, as the denial history stores it). */
export const SEVERITY_BY_CONTROL_ID: ReadonlyMap<string, Severity> = new Map(catalogue.map((c) => [c.id, CONTROL_SEVERITY[c.slug]!]));

/** Most severe first; a finding of no Gatehouse control (null) last. */
export function severityRank(s: Severity | null | undefined): number {
  const i = s ? SEVERITIES.indexOf(s) : -1;
  return i < 0 ? SEVERITIES.length : i;
}
