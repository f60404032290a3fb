// The agent's Helm chart applied to a real cluster (etcd + kube-apiserver + kube-controller-manager,
// Gatekeeper's webhook enforcing the restricted preset's container controls, no namespace exempt): what
// `helm template | kubectl apply --server-side` installs is accepted by the API server, the
// Deployment's ReplicaSet creates the agent's Pod and Gatekeeper admits it (no kubelet: it stays
// Pending), and the ServiceAccount may do what the agent needs — and nothing else.
// First: extends zod with .openapi() before the policies load.
import "@hono/zod-openapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPreset, EnvironmentSettings } from "../../src/policies/index.ts";
import { AGENT_NAME, AGENT_NAMESPACE } from "../../src/install/agent-manifest.ts";
import { applyRendered, denialLines } from "../harness/admission.ts";
import { GATEKEEPER_NAMESPACE, startCluster, type Cluster } from "../harness/cluster.ts";
import { waitUntil } from "../harness/cluster-process.ts";
import { renderAgentChart } from "../harness/helm.ts";
import { toolPath } from "../harness/tools.ts";

const T = 240_000;
const SA = `system:serviceaccount:${AGENT_NAMESPACE}:${AGENT_NAME}`;
let cluster: Cluster;
let rendered: Record<string, any>[];

// The restricted preset's controls a container's securityContext decides (the agent's whole
// Deployment passes all of the preset in gator: src/install/agent-manifest.test.ts); fewer
// templates for Gatekeeper to compile on a busy machine.
const CONTROLS = ["privilegedContainers", "privilegeEscalation", "capabilities", "seccomp", "usersAndGroups"];

/** Those controls as the restricted preset sets them, applied directly (no agent here). */
async function enforceRestricted(): Promise<void> {
  const preset = applyPreset({}, "restricted");
  const controls = Object.fromEntries(Object.entries(preset.controls ?? {}).filter(([id]) => CONTROLS.includes(id)));
  expect(Object.keys(controls).sort()).toEqual([...CONTROLS].sort());
  const settings = EnvironmentSettings.parse({ ...preset, controls, exemptions: { namespaces: [] } });
  await applyRendered(cluster, settings, { templateTimeoutMs: 90_000 });
  // Enforced once the webhook refuses the weakened Pod for both container controls it breaks
  // (asked of the webhook itself: Gatekeeper's byPod "enforced" status lags on a busy machine).
  await waitUntil(
    "the webhook enforcing the controls",
    async () => {
      const denied = new Set(denialLines((await createWeakPod()).stderr).map((d) => d.constraint));
      return WEAK_DENIED.every((c) => denied.has(c));
    },
    { timeoutMs: 300_000, intervalMs: 1000 },
  );
}

// The agent's Pod without its container securityContext: privilege escalation allowed, nothing dropped.
const WEAK_DENIED = ["capabilities", "privilege-escalation"];
function createWeakPod() {
  const spec = structuredClone(rendered.find((o) => o.kind === "Deployment")!.spec.template.spec);
  delete spec.containers[0].securityContext;
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "weakened-agent", namespace: AGENT_NAMESPACE }, spec };
  return cluster.kubectl(["create", "-f", "-", "--dry-run=server"], { input: JSON.stringify(pod) });
}

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, failurePolicy: "Fail", controllers: true });
  rendered = renderAgentChart({ apiUrl: "https://gatehouse.example", "token.value": "gha_test_chart" }, AGENT_NAMESPACE);
  await cluster.kubectlOk(["create", "namespace", AGENT_NAMESPACE]);
  await enforceRestricted();
  // The PolicyReport CRDs too, so kubectl resolves every resource the chart's rules name.
  await cluster.kubectlOk(["apply", "--server-side", "-f", toolPath("policyreport-crds")]);
  await cluster.kubectlOk([
    "wait",
    "--for=condition=established",
    "--timeout=60s",
    "crd/policyreports.wgpolicyk8s.io",
    "crd/clusterpolicyreports.wgpolicyk8s.io",
  ]);
}, 900_000);

afterAll(async () => {
  await cluster?.stop();
});

const can = async (verb: string, resource: string, namespace?: string) =>
  (await cluster.kubectl(["auth", "can-i", verb, resource, `--as=${SA}`, ...(namespace ? ["-n", namespace] : [])])).stdout.trim();

describe("the agent's Helm chart in a real cluster", () => {
  it("installs with server-side apply, and Gatekeeper enforcing the restricted controls admits the agent's Pod", { timeout: T }, async () => {
    await cluster.applyYaml(rendered.map((o) => JSON.stringify(o)).join("\n---\n"), { fieldManager: "helm" });
    for (const o of rendered) {
      const ns = o.metadata.namespace ? ["-n", o.metadata.namespace] : [];
      const got = await cluster.kubectlJson<{ metadata: { name: string } }>([
        "get",
        `${o.kind.toLowerCase()}.${o.apiVersion.includes("/") ? o.apiVersion.split("/")[0] : ""}`.replace(/\.$/, ""),
        o.metadata.name,
        ...ns,
      ]);
      expect(got.metadata.name, `${o.kind} ${o.metadata.name}`).toBe(o.metadata.name);
    }
    // The Deployment's ReplicaSet made the Pod: the webhook admitted it (failurePolicy Fail).
    const pods = await waitUntil(
      "the agent's Pod",
      async () => {
        const list = await cluster.kubectlJson<{ items: { metadata: { name: string }; spec: { serviceAccountName: string }; status: { phase: string } }[] }>([
          "get",
          "pods",
          "-n",
          AGENT_NAMESPACE,
          "-l",
          `app.kubernetes.io/name=${AGENT_NAME}`,
        ]);
        return list.items.length > 0 ? list.items : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(pods).toHaveLength(1);
    expect(pods[0]?.spec.serviceAccountName).toBe(AGENT_NAME);
    expect(pods[0]?.status.phase).toBe("Pending"); // no kubelet here
    // And the same Pod made less secure is refused: the controls are really enforced.
    const refused = await createWeakPod();
    expect(refused.code).not.toBe(0);
    expect(denialLines(refused.stderr).map((d) => d.constraint)).toEqual(expect.arrayContaining(WEAK_DENIED));
  });

  it("its ServiceAccount may do what the agent does, in the chart's rules, and nothing else", { timeout: T }, async () => {
    const clusterRole = rendered.find((o) => o.kind === "ClusterRole")!;
    const role = rendered.find((o) => o.kind === "Role")!;
    expect(role.metadata.namespace).toBe(GATEKEEPER_NAMESPACE);
    const resource = (r: string, group: string) => `${r === "*" ? "gatehouseprivilegedcontainers" : r}${group ? `.${group}` : ""}`;
    for (const rule of clusterRole.rules) {
      for (const r of rule.resources) for (const verb of rule.verbs) expect(await can(verb, resource(r, rule.apiGroups[0])), `${verb} ${r}`).toBe("yes");
    }
    for (const rule of role.rules) {
      for (const r of rule.resources)
        for (const verb of rule.verbs)
          expect(await can(verb, resource(r, rule.apiGroups[0]), GATEKEEPER_NAMESPACE), `${verb} ${r} in ${GATEKEEPER_NAMESPACE}`).toBe("yes");
    }
    // The writes and watches the agent makes: PolicyReports and the watched kinds.
    expect(await can("patch", "policyreports.wgpolicyk8s.io", "team-a")).toBe("yes");
    expect(await can("watch", "deployments.apps", GATEKEEPER_NAMESPACE)).toBe("yes");
    expect(await can("list", "events", GATEKEEPER_NAMESPACE)).toBe("yes");
    // Nothing else.
    expect(await can("get", "secrets", AGENT_NAMESPACE)).toBe("no");
    expect(await can("list", "secrets", GATEKEEPER_NAMESPACE)).toBe("no");
    expect(await can("create", "pods", "default")).toBe("no");
    expect(await can("list", "pods", "default")).toBe("no");
    expect(await can("delete", "customresourcedefinitions.apiextensions.k8s.io")).toBe("no");
    // Events are listed everywhere (controllers' FailedCreate: the API server's refusals), never read one by one or written.
    expect(await can("list", "events", "default")).toBe("yes");
    expect(await can("get", "events", "default")).toBe("no");
    expect(await can("create", "events", "default")).toBe("no");
    expect(await can("list", "deployments.apps", "default")).toBe("no");
    expect(await can("create", "assign.mutations.gatekeeper.sh")).toBe("no");
  });
});
