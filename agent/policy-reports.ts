// Gatekeeper's audit results as PolicyReports (wgpolicyk8s.io/v1alpha2, the policy working
// group's format that Policy Reporter and `kubectl get policyreport -n team-a` read): one
// PolicyReport per namespace with violations, one ClusterPolicyReport for cluster-scoped ones,
// so a namespace's owners see their violations where they already look. Written only where the
// CRDs are installed (Gatehouse does not install them), owned like every managed object (our
// label, our field manager, a content hash) and pruned when nothing in them is left — a disabled
// control's constraint is pruned, so its results disappear with it. Shadow (preview) constraints
// of a draft are not enforced and are left out. A report holds what Gatekeeper's audit kept:
// at most --constraint-violations-limit per constraint (the truncated ones are annotated).
import { createHash } from "node:crypto";
import { CONTENT_HASH_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SHADOW_LABEL, type KubeObject } from "../src/protocol/agent.ts";
import { constraintAudit } from "./audit.ts";
import { canonical, covers } from "./drift.ts";
import { kubeMessage, type Kube, type LiveObject } from "./kube.ts";

export const POLICY_REPORT_API = "wgpolicyk8s.io/v1alpha2";
export const POLICY_REPORT_CRDS = { PolicyReport: "policyreports.wgpolicyk8s.io", ClusterPolicyReport: "clusterpolicyreports.wgpolicyk8s.io" } as const;
/** The one report Gatehouse writes per namespace (and the ClusterPolicyReport's name). */
export const POLICY_REPORT_NAME = "gatehouse-audit";
export const TRUNCATED_ANNOTATION = "gatehouse.dev/audit-truncated";
const SOURCE = "gatehouse";

type Kind = keyof typeof POLICY_REPORT_CRDS;

interface ReportResult {
  policy: string;
  rule: string;
  result: "fail" | "warn";
  source: string;
  category: string;
  scored: boolean;
  message: string;
  resources: { apiVersion: string; kind: string; namespace?: string; name: string }[];
  properties: Record<string, string>;
}

/** Gatekeeper's deny is a failure; warn and dryrun do not block, so they are warnings. */
const outcome = (action: string): ReportResult["result"] => (action === "deny" ? "fail" : "warn");

/** The reports the audit of these (managed, observed) constraints calls for. */
export function desiredPolicyReports(constraints: LiveObject[]): KubeObject[] {
  const byNamespace = new Map<string, ReportResult[]>();
  const truncated: string[] = [];
  for (const c of constraints) {
    if (c.metadata?.labels?.[SHADOW_LABEL]) continue;
    const audit = constraintAudit(c);
    if (audit.truncated) truncated.push(`${audit.kind}/${audit.name}`);
    for (const v of audit.violations) {
      const list = byNamespace.get(v.namespace) ?? [];
      list.push({
        policy: audit.control ?? audit.name,
        rule: `${audit.kind}/${audit.name}`,
        result: outcome(v.enforcementAction),
        source: SOURCE,
        category: "Pod Security",
        scored: true,
        message: v.message,
        resources: [
          { apiVersion: v.group ? `${v.group}/${v.version}` : v.version, kind: v.kind, ...(v.namespace ? { namespace: v.namespace } : {}), name: v.name },
        ],
        properties: { constraint: `${audit.kind}/${audit.name}`, enforcementAction: v.enforcementAction },
      });
      byNamespace.set(v.namespace, list);
    }
  }
  truncated.sort();
  const order = (r: ReportResult) => [r.policy, r.rule, r.resources[0]!.kind, r.resources[0]!.name, r.message].join("\u0000");
  return [...byNamespace.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([namespace, results]) => {
      results.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
      const count = (r: ReportResult["result"]) => results.filter((x) => x.result === r).length;
      const body = { results, summary: { pass: 0, fail: count("fail"), warn: count("warn"), error: 0, skip: 0 } };
      const hash = `sha256:${createHash("sha256").update(canonical(body)).digest("hex")}`;
      return {
        apiVersion: POLICY_REPORT_API,
        kind: namespace ? "PolicyReport" : "ClusterPolicyReport",
        metadata: {
          name: POLICY_REPORT_NAME,
          ...(namespace ? { namespace } : {}),
          labels: { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE },
          annotations: { [CONTENT_HASH_ANNOTATION]: hash, ...(truncated.length ? { [TRUNCATED_ANNOTATION]: truncated.join(",") } : {}) },
        },
        ...body,
      };
    });
}

const id = (o: { kind?: string; metadata?: { namespace?: string; name?: string } }) => `${o.kind}|${o.metadata?.namespace ?? ""}|${o.metadata?.name}`;

function inSync(want: KubeObject, live: LiveObject): boolean {
  const meta = want.metadata as unknown as { labels: Record<string, string>; annotations: Record<string, string> };
  const same = (a: Record<string, string>, b: Record<string, string> | undefined) => Object.entries(a).every(([k, v]) => b?.[k] === v);
  const truncatedNow = meta.annotations[TRUNCATED_ANNOTATION];
  return (
    same(meta.labels, live.metadata?.labels) &&
    same(meta.annotations, live.metadata?.annotations) &&
    (truncatedNow !== undefined || live.metadata?.annotations?.[TRUNCATED_ANNOTATION] === undefined) &&
    covers({ results: want.results, summary: want.summary }, { results: live.results, summary: live.summary })
  );
}

export interface PolicyReportSync {
  /** Write requests made (applies, deletes). */
  writes: number;
  /** One line per report that could not be written or pruned. */
  errors: string[];
}

/** Make the cluster's managed PolicyReports say what the audit says; a no-op without the CRDs. */
export async function syncPolicyReports(kube: Kube, constraints: LiveObject[]): Promise<PolicyReportSync> {
  const out: PolicyReportSync = { writes: 0, errors: [] };
  const kinds: Kind[] = [];
  for (const kind of Object.keys(POLICY_REPORT_CRDS) as Kind[]) if (await kube.crdInstalled?.(POLICY_REPORT_CRDS[kind])) kinds.push(kind);
  if (kinds.length === 0) return out;

  const live = new Map<string, LiveObject>();
  for (const kind of kinds) for (const o of await kube.listManaged(POLICY_REPORT_API, kind)) live.set(id(o), o);
  const desired = desiredPolicyReports(constraints).filter((r) => kinds.includes(r.kind as Kind));

  for (const want of desired) {
    const current = live.get(id(want));
    live.delete(id(want));
    if (current && inSync(want, current)) continue;
    const where = `${want.kind} ${(want.metadata as { namespace?: string }).namespace ?? ""}/${want.metadata.name}`.replace(" /", " ");
    try {
      if (!current) {
        // Never take over a report someone else wrote under our name.
        const ns = (want.metadata as { namespace?: string }).namespace;
        const existing = ns
          ? await kube.readNamespaced(POLICY_REPORT_API, want.kind, ns, want.metadata.name)
          : await kube.get(POLICY_REPORT_API, want.kind, want.metadata.name);
        if (existing && existing.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE) {
          out.errors.push(`${where} exists without the label ${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}; Gatehouse does not take it over`);
          continue;
        }
      }
      out.writes++;
      await kube.apply(want);
    } catch (e) {
      out.errors.push(`${where}: ${kubeMessage(e)}`);
    }
  }
  // What is left is ours and no longer called for: a namespace without violations now.
  for (const stale of live.values()) {
    try {
      out.writes++;
      await kube.delete(stale);
    } catch (e) {
      out.errors.push(`pruning ${stale.kind} ${stale.metadata?.namespace ?? ""}/${stale.metadata?.name}: ${kubeMessage(e)}`);
    }
  }
  return out;
}
