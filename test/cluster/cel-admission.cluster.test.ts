// Issue 20, admission proof: with enforcementPoint "apiserver" the API server itself refuses,
// through the ValidatingAdmissionPolicy and binding Gatekeeper generates from the rendered CEL —
// with Gatekeeper stopped and its webhook's failurePolicy Ignore, where the webhook alone would
// admit everything. Settings go through the user API and are applied by the agent's own pass;
// objects are created with kubectl as the admin user. The Rego-only control (volume-types) shows
// what stays with the webhook, and a Deployment shows what a VAP does not do (expand workloads) —
// and that its refused Pods still reach the denial history, from its ReplicaSet's FailedCreate
// Events (agent/vap-denials.ts), while the Pods refused at kubectl leave no record.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { container, IMAGE, pod, workload } from "../../src/policies/sample.ts";
import { safeSysctls } from "../../src/policies/sysctls/index.ts";
import { MAX_MESSAGE_BYTES } from "../../src/policies/cel.ts";
import { BASELINE_CAPABILITIES } from "../../src/policies/presets/index.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { waitUntil } from "../harness/cluster-process.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { converge, create, createNamespaces, placed, unique, type Obj } from "../harness/admission.ts";

const T = 240_000;
const fileStart = Date.now();
const CNI_IMAGE = "registry.example.com/cni/agent:2.1";
const POLICY = "gatekeeper-gatehouseprivilegedcontainers";
const BINDING = "gatekeeper-gatehouseprivilegedcontainers-privileged-containers";

let cluster: Cluster;
let bed: AgentTestbed;
let ns: string;

// What capabilities, seccomp and users-and-groups ask for, so only the control under test has something to say.
const hardened = { capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" }, runAsNonRoot: true };
const privilegedPod = (namespace: string, name: string, image = IMAGE): Obj =>
  placed(pod({ containers: [container("app", { image, securityContext: { ...hardened, privileged: true } })] }), name, namespace);
const message = (namespace: string, name: string) =>
  `pod ${namespace}/${name}: container "app" (containers[0], image ${IMAGE}): securityContext.privileged is true; privileged containers are not allowed. ` +
  `To allow it, exempt namespace "${namespace}" or image "${IMAGE}" in Gatehouse control privileged-containers.`;
/** The generated policies of host-paths, flexvolume-drivers, probe-hosts and selinux, with their constraints' names. */
const MORE = [
  ["gatekeeper-gatehousehostpaths", "host-paths"],
  ["gatekeeper-gatehouseflexvolumedrivers", "flexvolume-drivers"],
  ["gatekeeper-gatehouseprobehosts", "probe-hosts"],
  ["gatekeeper-gatehouseselinux", "selinux"],
] as const;
/** What kubectl prints when a ValidatingAdmissionPolicy refuses (k8s.io/apiserver's validating policy plugin). */
const vapDenied = (policy: string, binding: string) => `ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: `;

beforeAll(async () => {
  // failurePolicy Ignore: what Gatekeeper's Helm chart registers, and the case the webhook alone loses.
  cluster = await startCluster({ webhook: true, failurePolicy: "Ignore", vap: true, controllers: true, garbageCollector: false, auditIntervalSeconds: 3 });
  // Before any policy exists: a generated policy not yet configured refuses namespaces too.
  ns = unique("cel");
  await createNamespaces(cluster, [ns, unique("sandbox")]);
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
        usersAndGroups: {},
        appArmor: {},
        sysctls: {},
        volumeTypes: {},
        // The controls whose CEL needs spelt-out fields or a computed field name, each with an option set.
        hostPaths: { options: { allowed: [{ pathPrefix: "/var/log", readOnly: true }] } },
        flexVolumeDrivers: {},
        probeHosts: {},
        seLinux: { options: { allowed: [{ type: "container_t" }] } },
      },
    },
  });
  // Twelve templates, eleven of them generating a VAP: on a loaded machine Gatekeeper may need more
  // than one agent pass to report them all created; the next pass picks up where this one stopped.
  await waitUntil("an agent pass that converges", async () => (await bed.pass()).ok, { timeoutMs: 300_000, intervalMs: 1000 });
  await converge(bed, cluster);
  // Until the API server has discovered every generated policy's paramKind (the constraint CRD),
  // that policy refuses every request it matches, namespaces included ("failed to find resource
  // referenced by paramKind"); wait for a compliant pod to be admitted before the tests start.
  await waitUntil(
    "every generated policy configured (a compliant pod admitted, server-side dry run)",
    async () => {
      const ok = placed(pod({ containers: [container("app", { securityContext: hardened })] }), unique("probe"), ns);
      const r = await cluster.kubectl(["create", "--dry-run=server", "-f", "-"], { input: JSON.stringify(ok) });
      if (r.code !== 0) throw new Error(r.stderr);
      return true;
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
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
          "gatekeeper-gatehouseusersandgroups-users-and-groups",
          "gatekeeper-gatehouseapparmor-apparmor",
          "gatekeeper-gatehousesysctls-sysctls",
          ...MORE.map(([policy, slug]) => `${policy}-${slug}`),
        ]);
        return r.code === 0;
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    const policy = await cluster.kubectlJson(["get", "validatingadmissionpolicies", POLICY]);
    expect(policy.spec.paramKind).toEqual({ apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "GatehousePrivilegedContainers" });
    const binding = await cluster.kubectlJson(["get", "validatingadmissionpolicybindings", BINDING]);
    expect(binding.spec).toMatchObject({ policyName: POLICY, paramRef: { name: "privileged-containers" }, validationActions: ["Deny"] });
    // volume-types is Rego only: no policy for it.
    expect((await cluster.kubectl(["get", "validatingadmissionpolicies", "gatekeeper-gatehousevolumetypes"])).code).not.toBe(0);

    // The agent reads it from Gatekeeper's status; the next passes see it generated.
    await waitUntil(
      "the agent reporting every VAP and binding generated",
      async () => {
        await bed.pass();
        const view = await json(await bed.callRoute(routes.environmentAgent.route, `/v1/environments/${bed.envId}/agent`));
        if (view.gatekeeper?.vap?.generated !== true) throw new Error(`not yet: ${JSON.stringify(view.gatekeeper?.vap)}`);
        return view;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    const view = await json(await bed.callRoute(routes.environmentAgent.route, `/v1/environments/${bed.envId}/agent`));
    expect(view.gatekeeper!.vap!.policies.map((p: Obj) => [p.name, p.state]).sort()).toEqual(
      [
        ["gatekeeper-gatehouseapparmor", "generated"],
        ["gatekeeper-gatehousecapabilities", "generated"],
        ["gatekeeper-gatehousehostnamespaces", "generated"],
        [POLICY, "generated"],
        ["gatekeeper-gatehouseseccomp", "generated"],
        ["gatekeeper-gatehousesysctls", "generated"],
        ["gatekeeper-gatehouseusersandgroups", "generated"],
        ...MORE.map(([policy]) => [policy, "generated"]),
      ].sort(),
    );
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

  it("users-and-groups, apparmor and sysctls refuse through their own policies", { timeout: T }, async () => {
    const at = (name: string) => `pod ${ns}/${name}: container "app" (containers[0], image ${IMAGE}): `;
    const exempt = `To allow it, exempt namespace "${ns}" or image "${IMAGE}" in Gatehouse control`;
    const denied = (slug: string) => vapDenied(`gatekeeper-gatehouse${slug.replaceAll("-", "")}`, `gatekeeper-gatehouse${slug.replaceAll("-", "")}-${slug}`);
    const { runAsNonRoot: _, ...asRoot } = hardened;
    const root = await create(cluster, placed(pod({ containers: [container("app", { securityContext: asRoot })] }), "as-root", ns));
    expect(root.code).not.toBe(0);
    expect(root.stderr).toContain(
      `${denied("users-and-groups")}${at("as-root")}securityContext.runAsNonRoot is null; runAsNonRoot is set neither on the container nor on the pod; the container must run as non-root: runAsNonRoot true, or a non-zero runAsUser, on the container or the pod. ${exempt} users-and-groups.`,
    );
    const unconfined = placed(
      pod({ containers: [container("app", { securityContext: { ...hardened, appArmorProfile: { type: "Unconfined" } } })] }),
      "apparmor-unconfined",
      ns,
    );
    const a = await create(cluster, unconfined);
    expect(a.code).not.toBe(0);
    expect(a.stderr).toContain(
      `${denied("apparmor")}${at("apparmor-unconfined")}securityContext.appArmorProfile is "unconfined"; allowed AppArmor profiles: localhost/*, runtime/default. ${exempt} apparmor.`,
    );
    const unsafe = placed(
      pod({ securityContext: { sysctls: [{ name: "kernel.msgmax", value: "65536" }] }, containers: [container("app", { securityContext: hardened })] }),
      "unsafe-sysctl",
      ns,
    );
    const u = await create(cluster, unsafe);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain(
      `${denied("sysctls")}pod ${ns}/unsafe-sysctl: spec.securityContext.sysctls[0].name is "kernel.msgmax"; it is neither a Kubernetes safe sysctl nor an allowed unsafe one; allowed: the Kubernetes safe sysctls (${safeSysctls("latest").join(", ")}). To allow it, exempt namespace "${ns}" in Gatehouse control sysctls.`,
    );
  });

  it("a refusal whose findings pass the API server's 5 KiB message limit keeps the findings that fit and counts the rest", { timeout: T }, async () => {
    // The thirteen capabilities baseline allows, added in two containers: 24 findings (NET_BIND_SERVICE is allowed), over 6 KiB of message.
    const caps = BASELINE_CAPABILITIES;
    const sc = { ...hardened, capabilities: { add: caps, drop: ["ALL"] } };
    const many = placed(pod({ containers: [container("app", { securityContext: sc }), container("sidecar", { securityContext: sc })] }), "many-caps", ns);
    const r = await create(cluster, many);
    expect(r.code).not.toBe(0);
    const denied = vapDenied("gatekeeper-gatehousecapabilities", "gatekeeper-gatehousecapabilities-capabilities");
    const text = r.stderr.slice(r.stderr.indexOf(denied) + denied.length).trim();
    const cut = /^(.*) \(and (\d+) more findings of Gatehouse control capabilities, cut to fit the API server's 5 KiB message limit\)$/.exec(text);
    expect(cut, text).not.toBeNull();
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    const shown = cut![1]!.split(/ (?=pod )/);
    expect(shown.length + Number(cut![2])).toBe(24);
    for (const f of shown)
      expect(f).toMatch(
        /^pod \S+: container "(app|sidecar)" .*securityContext\.capabilities\.add is "[A-Z_]+"; capabilities that may be added: NET_BIND_SERVICE\. /,
      );
  });

  it("host-paths, flexvolume-drivers, probe-hosts and selinux refuse through their own policies, with the message", { timeout: T }, async () => {
    const at = (name: string) => `pod ${ns}/${name}: container "app" (containers[0], image ${IMAGE}): `;
    const exempt = `To allow it, exempt namespace "${ns}" or image "${IMAGE}" in Gatehouse control`;
    const cases: [Obj, string, string][] = [
      [
        pod({
          volumes: [{ name: "logs", hostPath: { path: "/var/log/app" } }],
          containers: [container("app", { securityContext: hardened, volumeMounts: [{ name: "logs", mountPath: "/logs" }] })],
        }),
        "host-paths",
        `${at("host-paths")}volumeMounts[0].readOnly is null; host path /var/log/app (volume "logs") is allowed read-only only; set readOnly: true. ${exempt} host-paths.`,
      ],
      [
        pod({ volumes: [{ name: "data", flexVolume: { driver: "example.com/lvm" } }], containers: [container("app", { securityContext: hardened })] }),
        "flexvolume-drivers",
        `pod ${ns}/flexvolume-drivers: spec.volumes[0].flexVolume.driver is "example.com/lvm"; no flexVolume drivers are allowed. To allow it, exempt namespace "${ns}" in Gatehouse control flexvolume-drivers.`,
      ],
      [
        pod({ containers: [container("app", { securityContext: hardened, livenessProbe: { httpGet: { port: 8080, host: "169.254.169.254" } } })] }),
        "probe-hosts",
        `${at("probe-hosts")}livenessProbe.httpGet.host is "169.254.169.254"; the host must be unset (the pod's own IP). ${exempt} probe-hosts.`,
      ],
      [
        pod({ securityContext: { seLinuxOptions: { type: "spc_t", level: "s0" } }, containers: [container("app", { securityContext: hardened })] }),
        "selinux",
        `pod ${ns}/selinux: spec.securityContext.seLinuxOptions is {"level":"s0","type":"spc_t"}; allowed seLinuxOptions (a field not listed must be unset, * is any value): {type: container_t}. To allow it, exempt namespace "${ns}" in Gatehouse control selinux.`,
      ],
    ];
    for (const [object, slug, text] of cases) {
      const [policy] = MORE.find(([, s]) => s === slug)!;
      const r = await create(cluster, placed(object, slug, ns));
      expect(r.code, slug).not.toBe(0);
      expect(r.stderr).toContain(`${vapDenied(policy, `${policy}-${slug}`)}${text}`);
    }
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

  it("a Rego-only control (volume-types) is not enforced while the webhook is down under Ignore", { timeout: T }, async () => {
    // An nfs volume: only volume-types has something to say about it.
    const nfs = placed(
      pod({
        volumes: [{ name: "share", nfs: { server: "nfs.example.com", path: "/exports" } }],
        containers: [container("app", { securityContext: hardened })],
      }),
      "nfs-volume",
      ns,
    );
    const r = await create(cluster, nfs);
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

    // The agent reads the ReplicaSet's FailedCreate Events (Gatekeeper, stopped, recorded nothing)
    // and the denial history files the refusals under the Deployment, marked as the API server's.
    const denials = async (): Promise<Obj[]> =>
      (await json(await bed.callRoute(routes.denials.list, `/v1/denials?environment=${bed.envId}&namespace=${ns}`))).items;
    const row = await waitUntil("the Deployment's denial", async () => (await bed.pass(), (await denials()).find((d) => d.workload.name === "web")), {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    expect(row).toMatchObject({
      action: "deny",
      source: "apiserver",
      control: "privilegedContainers",
      constraint: { kind: "GatehousePrivilegedContainers", name: "privileged-containers" },
      workload: { kind: "Deployment", name: "web" },
      object: { kind: "Pod" },
      username: "",
    });
    expect(row.object.name).toMatch(/^web-[a-z0-9]+-[a-z0-9]{5}$/);
    expect(row.message).toBe(message(ns, row.object.name));
    // Each refusal the controller recorded counts once, however many passes read it: at least the
    // FailedCreate count before a pass, at most the count after it.
    const recorded = async () =>
      (await cluster.kubectlJson<{ items: Obj[] }>(["get", "events", "-n", ns, "--field-selector", "reason=FailedCreate"])).items
        .filter((e) => e.involvedObject.kind === "ReplicaSet" && e.involvedObject.name.startsWith("web-"))
        .reduce((n, e) => n + (e.count ?? 1), 0);
    const before = await recorded();
    await bed.pass();
    await bed.pass();
    const counted = (await denials()).find((d) => d.workload.name === "web")!.count;
    expect(counted).toBeGreaterThanOrEqual(before);
    expect(counted).toBeLessThanOrEqual(await recorded());
    // The Pods created with kubectl and refused by the API server above have no controller to record
    // them: the history holds the Deployment's row only (README, "Refusals nobody saw").
    expect((await denials()).map((d) => `${d.workload.kind}/${d.workload.name}`)).toEqual(["Deployment/web"]);
  });
});
