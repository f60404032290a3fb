// Issue 16 item 5 against real components (etcd + kube-apiserver, Gatekeeper's audit, the API on
// PostgreSQL, the agent's own pass with infra/'s RBAC through the counting proxy): Gatekeeper's
// audit results as wgpolicyk8s.io/v1alpha2 PolicyReports, with the CRDs from the policy working
// group's module (test/tools/build-tools.sh policyreport-crds):
//   - without the CRDs the agent writes none (and fails nothing); once installed, it does;
//   - one PolicyReport per namespace with violations, whose results are what the audit report
//     that reached the API says, readable with `kubectl get policyreport -n team-a`;
//   - owned like every managed object: our label, our field manager; a pass with nothing new
//     writes nothing; someone else's PolicyReport is never touched;
//   - a disabled control's results go with its constraint: a namespace left without any is pruned.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { POLICY_REPORT_NAME } from "../../agent/policy-reports.ts";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "../../src/protocol/agent.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { sleep } from "../harness/cluster-process.ts";
import { toolPath } from "../harness/tools.ts";

const T = 240_000;
let cluster: Cluster;
let bed: AgentTestbed;

interface Report {
  metadata: {
    name: string;
    namespace: string;
    labels?: Record<string, string>;
    managedFields?: { manager: string; operation: string }[];
    uid: string;
    resourceVersion: string;
  };
  summary: { fail: number; warn: number };
  results: { policy: string; result: string; message: string; resources: { kind: string; namespace: string; name: string }[] }[];
}

const reports = async (ns: string) =>
  (await cluster.kubectlJson<{ items: Report[] }>(["get", "policyreports.wgpolicyk8s.io", "-n", ns, "--show-managed-fields"])).items;
const ours = async (ns: string) => (await reports(ns)).find((r) => r.metadata.name === POLICY_REPORT_NAME);

/** The audit report the API holds, as namespace → sorted "control|pod|message" lines. */
async function auditByNamespace(): Promise<Map<string, string[]>> {
  const res = await bed.callRoute(routes.environmentAuditReport.route, `/v1/environments/${bed.envId}/audit-report`);
  const out = new Map<string, string[]>();
  if (res.status !== 200) return out;
  for (const c of (await json(res)).constraints) {
    for (const v of c.violations) out.set(v.namespace, [...(out.get(v.namespace) ?? []), `${c.control}|${v.name}|${v.message}`].sort());
  }
  return out;
}
const reportLines = (r: Report | undefined) => (r?.results ?? []).map((x) => `${x.policy}|${x.resources[0]?.name}|${x.message}`).sort();

/** Passes until both namespaces' audits have arrived and the reports say the same. */
async function passUntilReportsMatch(namespaces: string[], seconds = 120): Promise<Map<string, string[]>> {
  let audit = new Map<string, string[]>();
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(1000)) {
    await bed.pass();
    audit = await auditByNamespace();
    const ready = namespaces.every((ns) => (audit.get(ns)?.length ?? 0) > 0);
    if (
      ready &&
      (await Promise.all(namespaces.map(async (ns) => JSON.stringify(reportLines(await ours(ns))) === JSON.stringify(audit.get(ns))))).every(Boolean)
    )
      return audit;
  }
  return audit;
}

beforeAll(async () => {
  cluster = await startCluster({ auditIntervalSeconds: 3 });
  // Pods that break two controls, created before any constraint (no webhook here: audit finds them).
  await cluster.kubectlOk(["create", "namespace", "team-a"]);
  await cluster.kubectlOk(["create", "namespace", "team-b"]);
  await cluster.applyYaml(`apiVersion: v1
kind: Pod
metadata: { name: root-shell, namespace: team-a }
spec: { containers: [{ name: shell, image: busybox:1.36, securityContext: { privileged: true } }] }
---
apiVersion: v1
kind: Pod
metadata: { name: host-pid-a, namespace: team-a }
spec: { hostPID: true, containers: [{ name: c, image: busybox:1.36 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: host-pid, namespace: team-b }
spec: { hostPID: true, containers: [{ name: c, image: busybox:1.36 }] }
`);
  bed = await startAgentTestbed(cluster, {
    tenant: "cluster-policy-reports",
    settings: { enforcementAction: "deny", controls: { privilegedContainers: {}, hostNamespaces: { enforcementAction: "warn" } } },
  });
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
});

describe("PolicyReports from Gatekeeper's audit", () => {
  it("without the PolicyReport CRDs the agent writes none and its pass succeeds", { timeout: T }, async () => {
    const pass = await bed.pass();
    expect(pass).toMatchObject({ ok: true, error: null });
    expect((await cluster.kubectl(["get", "crd", "policyreports.wgpolicyk8s.io"])).code).not.toBe(0);
  });

  it("once installed: one report per namespace, matching the audit the API received, readable with kubectl", { timeout: T }, async () => {
    await cluster.kubectlOk(["apply", "--server-side", "-f", toolPath("policyreport-crds")]);
    await cluster.kubectlOk([
      "wait",
      "--for=condition=established",
      "--timeout=60s",
      "crd/policyreports.wgpolicyk8s.io",
      "crd/clusterpolicyreports.wgpolicyk8s.io",
    ]);
    // Someone else's report in the same namespace (Kyverno's, say): never touched.
    await cluster.applyYaml(`apiVersion: wgpolicyk8s.io/v1alpha2
kind: PolicyReport
metadata: { name: polr-ns-team-a, namespace: team-a }
results: [{ policy: other-tool, result: pass }]
summary: { pass: 1 }
`);
    const foreign = (await reports("team-a")).find((r) => r.metadata.name === "polr-ns-team-a")!;

    const audit = await passUntilReportsMatch(["team-a", "team-b"]);
    const a = await ours("team-a");
    const b = await ours("team-b");
    expect(reportLines(a)).toEqual(audit.get("team-a"));
    expect(reportLines(b)).toEqual(audit.get("team-b"));
    expect(a?.results.find((r) => r.resources[0]?.name === "root-shell")).toMatchObject({
      policy: "privileged-containers",
      result: "fail",
      resources: [{ kind: "Pod", namespace: "team-a", name: "root-shell" }],
    });
    expect(b?.results.find((r) => r.resources[0]?.name === "host-pid")).toMatchObject({ policy: "host-namespaces", result: "warn" });
    expect(a?.results.map((r) => r.resources[0]?.name).sort()).toEqual(["host-pid-a", "root-shell"]);
    expect(a?.summary).toMatchObject({ fail: a?.results.filter((r) => r.result === "fail").length });
    // Owned like every managed object.
    expect(a?.metadata.labels?.[MANAGED_BY_LABEL]).toBe("gatehouse");
    expect(a?.metadata.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === "Apply")).toBe(true);
    // Where a namespace's owners look.
    const table = await cluster.kubectlOk(["get", "policyreport", "-n", "team-a"]);
    expect(table).toMatch(new RegExp(`^${POLICY_REPORT_NAME}\\s`, "m"));
    expect(table).toMatch(/FAIL/);
    expect((await reports("team-a")).find((r) => r.metadata.name === "polr-ns-team-a")?.metadata.resourceVersion).toBe(foreign.metadata.resourceVersion);

    // Nothing new: no write at all (Gatekeeper's audit keeps running meanwhile).
    bed.proxy.reset();
    expect(await bed.pass()).toMatchObject({ ok: true, writes: 0 });
    expect(bed.proxy.counts().writes).toBe(0);
  });

  it("a disabled control takes its results with it; a namespace left without any loses its report", { timeout: T }, async () => {
    const res = await bed.call("PATCH", `/v1/environments/${bed.envId}/settings/controls/hostNamespaces`, null);
    expect(res.status).toBe(200);
    const pass = await bed.pass();
    expect(pass.ok).toBe(true);
    expect(
      pass.results
        .filter((r) => r.result === "pruned")
        .map((r) => r.kind)
        .sort(),
    ).toEqual(["ConstraintTemplate", "GatehouseHostNamespaces"]);
    expect(await ours("team-b")).toBeUndefined();
    const a = await ours("team-a");
    expect(a?.results.map((r) => r.resources[0]?.name)).toEqual(["root-shell"]);
    expect(a?.results.map((r) => r.policy)).not.toContain("host-namespaces");
    expect(a?.results.map((r) => r.policy)).toContain("privileged-containers");
    // Someone else's report outlives ours.
    expect((await reports("team-a")).map((r) => r.metadata.name)).toContain("polr-ns-team-a");
  });
});
