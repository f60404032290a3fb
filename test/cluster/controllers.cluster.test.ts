// The cluster harness with real controllers (kube-controller-manager) and Gatekeeper's admission
// events: what issue "admission-denial history" builds on, pinned on the real components.
// - a Deployment that is itself admitted (no expansion template) gets a ReplicaSet whose Pods
//   Gatekeeper refuses: the ReplicaSet reports FailedCreate with Gatekeeper's message, and nobody
//   at a terminal sees it;
// - with --emit-admission-events, each refusal is an Event in gatekeeper-system (reason
//   FailedAdmission) whose annotations name the constraint, its action, the resource and the
//   requesting user (the ReplicaSet controller's ServiceAccount);
// - warn mode is an Event with reason WarningAdmission and the Pod is created (Pending: no kubelet);
// - a compliant Deployment gets its Pod.
// First: extends zod with .openapi() before the policies load (admission.ts reaches the app).
import "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvironmentSettings } from "../../src/policies/index.ts";
import { container, IMAGE } from "../../src/policies/sample.ts";
import { applyRendered, createNamespaces, DENIED, unique, waitEnforced, type Obj } from "../harness/admission.ts";
import { GATEKEEPER_NAMESPACE, startCluster, type Cluster } from "../harness/cluster.ts";
import { waitUntil } from "../harness/cluster-process.ts";

const T = 240_000;
let cluster: Cluster;

const deployment = (ns: string, name: string, securityContext: Obj = {}): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [container("app", { image: IMAGE, securityContext })] } },
  },
});

interface Event {
  reason: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name?: string; namespace?: string };
  metadata: { annotations?: Record<string, string> };
}
const gatekeeperEvents = async (reason: string, ns: string): Promise<Event[]> =>
  (await cluster.kubectlJson<{ items: Event[] }>(["get", "events", "-n", GATEKEEPER_NAMESPACE])).items.filter(
    (e) => e.reason === reason && e.metadata.annotations?.resource_namespace === ns,
  );

/** Applies the rendered templates and constraints of these settings, without expansion templates. */
async function enforce(settings: unknown): Promise<void> {
  await applyRendered(cluster, EnvironmentSettings.parse(settings), { templateTimeoutMs: 60_000 });
  await waitEnforced(cluster);
}

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, controllers: true, admissionEvents: true });
  await enforce({
    controls: { privilegedContainers: { enabled: true, enforcementAction: "deny" }, hostNamespaces: { enabled: true, enforcementAction: "warn" } },
  });
}, 600_000);
afterAll(() => cluster?.stop());

describe("kube-controller-manager and admission events", () => {
  it("creates the Pods of a compliant Deployment", { timeout: T }, async () => {
    const ns = unique("ctl-ok");
    await createNamespaces(cluster, [ns]);
    await cluster.applyYaml(JSON.stringify(deployment(ns, "web")));
    const pods = await waitUntil(
      "the ReplicaSet's Pod",
      async () => {
        const list = await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns]);
        return list.items.length === 1 ? list.items : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    const owner = pods[0]!.metadata.ownerReferences?.[0];
    expect(owner).toMatchObject({ kind: "ReplicaSet", controller: true });
    expect(owner.name).toMatch(/^web-[a-z0-9]+$/);
    expect(pods[0]!.metadata.generateName).toBe(`${owner.name}-`);
  });

  it("a refused Pod of an admitted Deployment: FailedCreate on its ReplicaSet, and a FailedAdmission Event naming the controller", { timeout: T }, async () => {
    const ns = unique("ctl-deny");
    await createNamespaces(cluster, [ns]);
    await cluster.applyYaml(JSON.stringify(deployment(ns, "root-web", { privileged: true })));
    const failure = await waitUntil(
      "the ReplicaSet's ReplicaFailure condition",
      async () => {
        const list = await cluster.kubectlJson<{ items: Obj[] }>(["get", "replicasets", "-n", ns]);
        return list.items[0]?.status?.conditions?.find((c: Obj) => c.type === "ReplicaFailure");
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(failure).toMatchObject({ status: "True", reason: "FailedCreate" });
    expect(failure.message).toContain(DENIED);
    expect(failure.message).toContain("[privileged-containers]");
    // A controller's real pod (generated name, owner with a uid) is named as the pod, never taken for
    // the pod Gatekeeper's expansion makes of a workload (common/gatehouse.rego `workload`).
    expect(failure.message).toMatch(new RegExp(`\\[privileged-containers\\] pod ${ns}/root-web-[a-z0-9]+-[a-z0-9]{5}: container "app" \\(containers\\[0\\], `));
    expect((await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns])).items).toHaveLength(0);

    const events = await waitUntil(
      "a FailedAdmission Event",
      async () => ((await gatekeeperEvents("FailedAdmission", ns)).length ? gatekeeperEvents("FailedAdmission", ns) : undefined),
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    const a = events[0]!.metadata.annotations!;
    expect(a).toMatchObject({
      process: "admission",
      event_type: "violation",
      constraint_kind: "GatehousePrivilegedContainers",
      constraint_action: "deny",
      resource_kind: "Pod",
      resource_namespace: ns,
      request_username: "system:serviceaccount:kube-system:replicaset-controller",
    });
    expect(a.constraint_name).toBe("privileged-containers");
    expect(events[0]!.involvedObject).toMatchObject({ kind: "Pod", namespace: GATEKEEPER_NAMESPACE });
    expect(events[0]!.message).toContain(`Resource Namespace: ${ns}, Constraint: privileged-containers, Message: `);
    // What a pod created with generateName is called when admission judges it: the API server has
    // already generated its name, so the Event names a Pod that never existed.
    expect(a.resource_name).toMatch(/^root-web-[a-z0-9]+-[a-z0-9]{5}$/);
  });

  it("warn: a WarningAdmission Event, and the Pod is created", { timeout: T }, async () => {
    const ns = unique("ctl-warn");
    await createNamespaces(cluster, [ns]);
    const d = deployment(ns, "host-pid");
    d.spec.template.spec.hostPID = true;
    await cluster.applyYaml(JSON.stringify(d));
    const events = await waitUntil(
      "a WarningAdmission Event",
      async () => ((await gatekeeperEvents("WarningAdmission", ns)).length ? gatekeeperEvents("WarningAdmission", ns) : undefined),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(events[0]!.metadata.annotations).toMatchObject({ constraint_action: "warn", constraint_name: "host-namespaces", resource_kind: "Pod" });
    await waitUntil("the warned Pod", async () => (await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns])).items.length === 1, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
  });
});
