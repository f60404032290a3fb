// Issue 20, admission proof: with enforcementPoint "apiserver" the API server itself refuses,
// through the ValidatingAdmissionPolicy and binding Gatekeeper generates from the rendered CEL —
// with Gatekeeper stopped and its webhook's failurePolicy Ignore, where the webhook alone would
// admit everything. Settings go through the user API and are applied by the agent's own pass;
// objects are created with kubectl as the admin user. The Rego-only control (sysctls) shows
// what stays with the webhook, and a Deployment shows what a VAP does not do (expand workloads).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { container, IMAGE, pod, workload } from "../../src/policies/sample.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { waitUntil } from "../harness/cluster-process.ts";
import { json } from "../harness/api.ts";
import { converge, create, createNamespaces, placed, unique, type Obj } from "../harness/admission.ts";

const T = 240_000;
const fileStart = Date.now();
const CNI_IMAGE = "registry.example.com/cni/agent:2.1";
const POLICY = "gatekeeper-gatehouseprivilegedcontainers";
const BINDING = "gatekeeper-gatehouseprivilegedcontainers-privileged-containers";

let cluster: Cluster;
let bed: AgentTestbed;
let ns: string;

// What capabilities and seccomp ask for, so only the control under test has something to say.
const hardened = { capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } };
const privilegedPod = (namespace: string, name: string, image = IMAGE): Obj =>
  placed(pod({ containers: [container("app", { image, securityContext: { ...hardened, privileged: true } })] }), name, namespace);
const message = (namespace: string, name: string) =>
  `pod ${namespace}/${name}: container "app" (containers[0], image ${IMAGE}): securityContext.privileged is true; privileged containers are not allowed. ` +
  `To allow it, exempt namespace "${namespace}" or image "${IMAGE}" in Gatehouse control privileged-containers.`;
/** What kubectl prints when a ValidatingAdmissionPolicy refuses (k8s.io/apiserver's validating policy plugin). */
const vapDenied = (policy: string, binding: string) => `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: `;

beforeAll(async () => {
  // failurePolicy Ignore: what Gatekeeper's Helm chart registers, and the case the webhook alone loses.
  cluster = await startCluster({ webhook: true, failurePolicy: "Ignore", vap: true, controllers: true, garbageCollector: false, auditIntervalSeconds: 3 });
  bed = await startAgentTestbed(cluster, {
    tenant: "cel-admission",
    settings: {
      enforcementAction: "deny",
      enforcementPoint: "apiserver",
      controls: {
        privilegedContainers: { exemptions: { namespaces: [{ pattern: "sandbox-*" }], images: [{ pattern: "registry.example.com/cni/*" }] } },
        hostNamespaces: {},
        capabilities: { options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] } },
        seccomp: { options: { allowed: ["RuntimeDefault", "Localhost/*"], allowUnset: false } },
        sysctls: {},
      },
    },
  });
  // Five templates, four of them generating a VAP: on a loaded machine Gatekeeper may need more
  // than one agent pass to report them all created; the next pass picks up where this one stopped.
  await waitUntil("an agent pass that converges", async () => (await bed.pass()).ok, { timeoutMs: 300_000, intervalMs: 1000 });
  await converge(bed, cluster);
  ns = unique("cel");
  await createNamespaces(cluster, [ns, unique("sandbox")]);
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
  console.log(`cel-admission: file took ${Math.round((Date.now() - fileStart) / 1000)} s`);
});

describe("enforcement by the API server (enforcementPoint apiserver)", () => {
  it("Gatekeeper generates the policy and binding from the rendered objects, and the agent reports them generated", { timeout: T }, async () => {
    await waitUntil(
      "the generated ValidatingAdmissionPolicyBindings",
      async () => {
        const r = await cluster.kubectl([
          "get",
          "validatingadmissionpolicybindings",
          BINDING,
          "gatekeeper-gatehousehostnamespaces-host-namespaces",
          "gatekeeper-gatehousecapabilities-capabilities",
          "gatekeeper-gatehouseseccomp-seccomp",
        ]);
        return r.code === 0;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const policy = await cluster.kubectlJson(["get", "validatingadmissionpolicies", POLICY]);
    expect(policy.spec.paramKind).toEqual({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "GatehousePrivilegedContainers" });
    const binding = await cluster.kubectlJson(["get", "validatingadmissionpolicybindings", BINDING]);
    expect(binding.spec).toMatchObject({ policyName: POLICY, paramRef: { name: "privileged-containers" }, validationActions: ["Deny"] });
    // sysctls is Rego only: no policy for it.
    expect((await cluster.kubectl(["get", "validatingadmissionpolicies", "gatekeeper-gatehousesysctls"])).code).not.toBe(0);

    // The agent reads it from Gatekeeper's status; the next passes see it generated.
    await waitUntil(
      "the agent reporting every VAP and binding generated",
      async () => {
        await bed.pass();
        const view = await json<any>(await bed.call("GET", `/v1/environments/${bed.envId}/agent`));
        if (view.gatekeeper?.vap?.generated !== true) throw new Error(`not yet: ${JSON.stringify(view.gatekeeper?.vap)}`);
        return view;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    const view = await json<any>(await bed.call("GET", `/v1/environments/${bed.envId}/agent`));
    expect(view.gatekeeper.vap.policies.map((p: Obj) => [p.name, p.state]).sort()).toEqual([
      ["gatekeeper-gatehousecapabilities", "generated"],
      ["gatekeeper-gatehousehostnamespaces", "generated"],
      [POLICY, "generated"],
      ["gatekeeper-gatehouseseccomp", "generated"],
    ]);
    expect(view.degradedReasons).toEqual([]);
  });

  it("with Gatekeeper stopped and failurePolicy Ignore, a privileged pod is still refused by the API server, with the message", { timeout: T }, async () => {
    await cluster.stopGatekeeper();
    const r = await create(cluster, privilegedPod(ns, "root-shell"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(vapDenied(POLICY, BINDING) + message(ns, "root-shell"));

    const hostPid = placed(pod({ hostPID: true, containers: [container("app", { securityContext: hardened })] }), "sees-all", ns);
    const h = await create(cluster, hostPid);
    expect(h.stderr).toContain(
      `denied request: pod ${ns}/sees-all: spec.hostPID is true; sharing the host PID namespace is not allowed (allowHostPID is false). To allow it, exempt namespace "${ns}" in Gatehouse control host-namespaces.`,
    );
  });

  it("capabilities and seccomp, with their options, refuse through their own policies", { timeout: T }, async () => {
    // The API server stops at the first policy that denies, so one pod per control.
    const at = (name: string) => `pod ${ns}/${name}: container "app" (containers[0], image ${IMAGE}): `;
    const exempt = `To allow it, exempt namespace "${ns}" or image "${IMAGE}" in Gatehouse control`;
    const netAdmin = placed(
      pod({ containers: [container("app", { securityContext: { ...hardened, capabilities: { add: ["cap_net_admin"], drop: ["ALL"] } } })] }),
      "net-admin",
      ns,
    );
    const r = await create(cluster, netAdmin);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `${vapDenied("gatekeeper-gatehousecapabilities", "gatekeeper-gatehousecapabilities-capabilities")}${at("net-admin")}securityContext.capabilities.add is "cap_net_admin"; capabilities that may be added: NET_BIND_SERVICE. ${exempt} capabilities.`,
    );
    const unconfined = placed(
      pod({ containers: [container("app", { securityContext: { ...hardened, seccompProfile: { type: "Unconfined" } } })] }),
      "unconfined",
      ns,
    );
    const u = await create(cluster, unconfined);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain(
      `${vapDenied("gatekeeper-gatehouseseccomp", "gatekeeper-gatehouseseccomp-seccomp")}${at("unconfined")}securityContext.seccompProfile is "Unconfined"; allowed seccomp profiles: Localhost/*, RuntimeDefault; a profile must be set (unset runs Unconfined unless the kubelet enables SeccompDefault). ${exempt} seccomp.`,
    );
  });

  it("honours the exemptions as the webhook does: namespace glob, image prefix, and the default system namespaces", { timeout: T }, async () => {
    expect(cluster.gatekeeperRunning()).toBe(false);
    const sandbox = (await cluster.kubectlJson<{ items: Obj[] }>(["get", "namespaces"])).items
      .map((n) => n.metadata.name)
      .find((n: string) => n.startsWith("sandbox-"))!;
    for (const obj of [privilegedPod(sandbox, "exempt-ns"), privilegedPod(ns, "exempt-image", CNI_IMAGE), privilegedPod("kube-system", unique("system"))]) {
      const r = await create(cluster, obj);
      expect(r.stderr, `${obj.metadata.namespace}/${obj.metadata.name}`).toBe("");
      expect(r.code).toBe(0);
    }
  });

  it("a Rego-only control (sysctls) is not enforced while the webhook is down under Ignore", { timeout: T }, async () => {
    const unsafe = placed(
      pod({ securityContext: { sysctls: [{ name: "kernel.msgmax", value: "65536" }] }, containers: [container("app", { securityContext: hardened })] }),
      "unsafe-sysctl",
      ns,
    );
    const r = await create(cluster, unsafe);
    expect(r.code, r.stderr).toBe(0);
  });

  it("a Deployment is admitted (a VAP does not expand pod templates), but every Pod it makes is refused, with the message", { timeout: T }, async () => {
    const deployment = placed(workload("Deployment", { containers: [container("app", { securityContext: { ...hardened, privileged: true } })] }), "web", ns);
    const r = await create(cluster, deployment);
    expect(r.code, r.stderr).toBe(0);
    // kube-controller-manager's ReplicaSet controller records the API server's refusal.
    const failure = await waitUntil(
      "the ReplicaSet's ReplicaFailure condition",
      async () => {
        const list = await cluster.kubectlJson<{ items: Obj[] }>(["get", "replicasets", "-n", ns]);
        const cond = list.items.flatMap((rs) => rs.status?.conditions ?? []).find((c: Obj) => c.type === "ReplicaFailure");
        return cond?.message as string | undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    expect(failure).toContain(vapDenied(POLICY, BINDING));
    expect(failure).toMatch(
      new RegExp(
        `pod ${ns}/web-[a-z0-9]+-\\*?[a-z0-9]*: container "app" \\(containers\\[0\\], image ${IMAGE.replaceAll(".", "\\.")}\\): securityContext\\.privileged is true`,
      ),
    );
    expect((await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns, "-l", "app=s"])).items).toEqual([]);
  });
});
