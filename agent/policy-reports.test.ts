// What PolicyReports the agent derives from Gatekeeper's audit (constraint status): one per
// namespace, a ClusterPolicyReport for cluster-scoped objects, stable content (no rewrite when
// only the audit's timestamps move), draft shadows left out. Writing, pruning and reading them
// back with kubectl is test/cluster/policy-reports.cluster.test.ts, on a real API server.
import { describe, expect, it } from "vitest";
import { desiredPolicyReports, POLICY_REPORT_API, POLICY_REPORT_NAME, TRUNCATED_ANNOTATION } from "./policy-reports.ts";
import type { LiveObject } from "./kube.ts";

const violation = (namespace: string, name: string, message = "bad", enforcementAction?: string) => ({
  group: "",
  version: "v1",
  kind: "Pod",
  namespace,
  name,
  message,
  ...(enforcementAction ? { enforcementAction } : {}),
});
const constraint = (
  name: string,
  action: string,
  violations: object[],
  extra: { labels?: Record<string, string>; total?: number; at?: string } = {},
): LiveObject => ({
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: "GatehouseX",
  metadata: { name, labels: { "gatehouse.dev/control": name, ...extra.labels } },
  spec: { enforcementAction: action },
  status: { auditTimestamp: extra.at ?? "2026-12-01T10:00:00Z", totalViolations: extra.total ?? violations.length, violations },
});

describe("PolicyReports from the audit", () => {
  it("one report per namespace; deny is fail, warn and dryrun are warn; summary counts them", () => {
    const reports = desiredPolicyReports([
      constraint("privileged-containers", "deny", [violation("team-a", "root-shell", "privileged"), violation("team-b", "other")]),
      constraint("host-namespaces", "warn", [violation("team-a", "host-pid", "hostPID")]),
      constraint("seccomp", "dryrun", [violation("team-a", "no-seccomp")]),
    ]);
    expect(reports.map((r) => `${r.kind}/${(r.metadata as { namespace?: string }).namespace}/${r.metadata.name}`)).toEqual([
      `PolicyReport/team-a/${POLICY_REPORT_NAME}`,
      `PolicyReport/team-b/${POLICY_REPORT_NAME}`,
    ]);
    const a = reports[0] as unknown as {
      apiVersion: string;
      metadata: { labels: Record<string, string> };
      summary: object;
      results: { policy: string; result: string; resources: object[]; properties: Record<string, string> }[];
    };
    expect(a.apiVersion).toBe(POLICY_REPORT_API);
    expect(a.metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "gatehouse" });
    expect(a.summary).toEqual({ pass: 0, fail: 1, warn: 2, error: 0, skip: 0 });
    expect(a.results.map((r) => [r.policy, r.result, r.properties.enforcementAction])).toEqual([
      ["host-namespaces", "warn", "warn"],
      ["privileged-containers", "fail", "deny"],
      ["seccomp", "warn", "dryrun"],
    ]);
    expect(a.results[1]).toMatchObject({
      rule: "GatehouseX/privileged-containers",
      source: "gatehouse",
      message: "privileged",
      resources: [{ apiVersion: "v1", kind: "Pod", namespace: "team-a", name: "root-shell" }],
    });
  });

  it("cluster-scoped objects go to the ClusterPolicyReport; draft shadows are left out; truncation is said", () => {
    const reports = desiredPolicyReports([
      constraint("c", "deny", [{ ...violation("", "some-node"), kind: "Node" }], { total: 30 }),
      constraint("preview-abcdef12-1-c", "dryrun", [violation("team-a", "x")], { labels: { "gatehouse.dev/shadow-of-draft": "abcdef12-0000" } }),
    ]);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      kind: "ClusterPolicyReport",
      metadata: { name: POLICY_REPORT_NAME, annotations: { [TRUNCATED_ANNOTATION]: "GatehouseX/c" } },
    });
    expect((reports[0]!.metadata as { namespace?: string }).namespace).toBeUndefined();
  });

  it("the same findings in another order or at another audit time are the same report (no rewrite)", () => {
    const one = desiredPolicyReports([constraint("p", "deny", [violation("team-a", "b"), violation("team-a", "a")], { at: "2026-12-01T10:00:00Z" })]);
    const two = desiredPolicyReports([constraint("p", "deny", [violation("team-a", "a"), violation("team-a", "b")], { at: "2026-12-01T10:05:00Z" })]);
    expect(two).toEqual(one);
    expect(desiredPolicyReports([])).toEqual([]);
  });
});
