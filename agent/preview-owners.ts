// The owning workload of each object a draft's shadow constraint lists, so a draft's preview says
// "Deployment web" where Gatekeeper's audit says "Pod web-7c9d8f6b5d-x2x7q". The same resolution
// as for refused objects (admission-events.ts ownerResolver: a Pod's ReplicaSet or Job and its
// controller, confirmed by reading them; no access to Pods needed), cached across passes. Only
// shadow constraints: the violation history files violations under the objects themselves.
import { SHADOW_NAME_PREFIX, type AuditReport } from "../src/protocol/agent.ts";
import { ownerResolver } from "./admission-events.ts";
import type { Kube } from "./kube.ts";

/** Lookups a pass may start (each is at most two reads, then cached): a huge preview must not stall the loop. */
const MAX_LOOKUPS = 200;

const resolvers = new WeakMap<Kube, ReturnType<typeof ownerResolver>>();

export async function withPreviewOwners(kube: Kube, report: AuditReport): Promise<AuditReport> {
  const resolve = resolvers.get(kube) ?? ownerResolver(kube);
  resolvers.set(kube, resolve);
  let lookups = 0;
  const constraints = [];
  for (const c of report.constraints) {
    if (!c.name.startsWith(SHADOW_NAME_PREFIX)) {
      constraints.push(c);
      continue;
    }
    const violations = [];
    for (const v of c.violations) {
      const workload = v.kind === "Pod" || v.kind === "ReplicaSet" || v.kind === "Job";
      const owner = workload && v.namespace && lookups++ < MAX_LOOKUPS ? await resolve(v.kind, v.namespace, v.name) : null;
      violations.push(owner ? { ...v, owner } : v);
    }
    constraints.push({ ...c, violations });
  }
  return { ...report, constraints };
}
