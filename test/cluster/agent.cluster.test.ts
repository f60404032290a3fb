// The agent's reconcile pass against real components: etcd + kube-apiserver, Gatekeeper's
// controller (audit, status, generate) running out of cluster, the API on real PostgreSQL through
// the Neon driver behind a real HTTP listener, and the agent authenticated by a ServiceAccount
// token that only infra/'s ClusterRole authorises. Each proof runs the agent's own pass, in
// order, on the state the previous one left: convergence, the audit report, a changed setting and
// pruning, ownership, drift, an API outage. agent-runtime.cluster.test.ts has the agent's
// privileges, the agent process as the image runs it, and a cluster without Gatekeeper.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../../agent/api-client.ts";
import { MANAGED_BY_LABEL } from "../../src/protocol/agent.ts";
import { agentView, managedVersions, TEMPLATE_API, type Obj } from "../harness/agent-cluster.ts";
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { json } from "../harness/api.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { sleep } from "../harness/cluster-process.ts";
import * as routes from "../harness/routes.ts";

const T = 180_000;
// Privileged containers denied, host namespaces and sysctls checked too: three controls.
const SETTINGS = {
  enforcementAction: "deny" as const,
  controls: { privilegedContainers: {}, hostNamespaces: {}, sysctls: {} },
};

let cluster: Cluster;
let bed: AgentTestbed;

beforeAll(async () => {
  cluster = await startCluster({ auditIntervalSeconds: 3 });
  bed = await startAgentTestbed(cluster, { tenant: "cluster-agent", settings: SETTINGS });
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
});

describe("agent against a real kube-apiserver with Gatekeeper", () => {
  it("1. a fresh cluster converges to the desired revision, and real Gatekeeper reports every template created", { timeout: T }, async () => {
    const pass = await bed.pass();
    expect(pass.error).toBeNull();
    expect(pass.ok).toBe(true);
    expect(
      pass.results
        .filter((r) => r.result === "applied")
        .map((r) => `${r.kind}/${r.name}`)
        .sort(),
    ).toEqual(
      [
        "ConstraintTemplate/gatehousehostnamespaces",
        "ConstraintTemplate/gatehouseprivilegedcontainers",
        "ConstraintTemplate/gatehousesysctls",
        "ExpansionTemplate/gatehouse-cronjob-templates",
        "ExpansionTemplate/gatehouse-pod-templates",
        "GatehouseHostNamespaces/host-namespaces",
        "GatehousePrivilegedContainers/privileged-containers",
        "GatehouseSysctls/sysctls",
      ].sort(),
    );
    const templates = await cluster.kubectlJson<{ items: Obj[] }>(["get", TEMPLATE_API]);
    expect(templates.items).toHaveLength(3);
    for (const t of templates.items) expect(t.status?.created, t.metadata.name).toBe(true);

    const view = await agentView(bed);
    expect(view).toMatchObject({ state: "online", appliedRevision: 1, desiredRevision: 1, inSync: true, gatekeeper: { installed: true } });
    expect(view.kubernetesVersion).toBe("v1.36.3");
    expect(view.templates.map((t: { created: boolean; crdEstablished: boolean }) => t.created && t.crdEstablished)).toEqual([true, true, true]);

    // The next pass has nothing to do, and makes no write request to the API server at all; what
    // it reads comes from its watches, so it sends (next to) no read request either.
    bed.proxy.reset();
    const again = await bed.pass();
    expect(again).toMatchObject({ ok: true, writes: 0 });
    expect(again.results.every((r) => r.result === "unchanged")).toBe(true);
    expect(bed.proxy.counts().writes).toBe(0);
    expect(bed.proxy.counts().reads).toBeLessThanOrEqual(3);
  });

  it("2. a privileged pod in the API server appears as a violation in the audit report that reaches the API", { timeout: T }, async () => {
    await cluster.kubectlOk(["create", "namespace", "team-a"]);
    await cluster.applyYaml(`apiVersion: v1
kind: Pod
metadata: { name: root-shell, namespace: team-a }
spec:
  containers:
    - name: shell
      image: busybox:1.36
      securityContext: { privileged: true }
`);
    let report: any;
    for (let i = 0; i < 60; i++) {
      await bed.pass();
      const res = await bed.callRoute(routes.environmentAuditReport.route, `/v1/environments/${bed.envId}/audit-report`);
      if (res.status === 200) {
        report = await json(res);
        const c = report.constraints.find((x: { name: string }) => x.name === "privileged-containers");
        if (c?.violations.some((v: { name: string }) => v.name === "root-shell")) break;
      }
      await sleep(2000);
    }
    const constraint = report.constraints.find((x: { name: string }) => x.name === "privileged-containers");
    expect(constraint).toMatchObject({ kind: "GatehousePrivilegedContainers", control: "privileged-containers", enforcementAction: "deny", truncated: false });
    const v = constraint.violations.find((x: { name: string }) => x.name === "root-shell");
    expect(v).toMatchObject({ kind: "Pod", namespace: "team-a", name: "root-shell", enforcementAction: "deny" });
    expect(v.message).toContain('container "shell"');
    expect(v.message).toContain("privileged");
    // The other constraints were audited too, and found nothing.
    expect(report.constraints.find((x: { name: string }) => x.name === "sysctls")).toMatchObject({ totalViolations: 0 });
  });

  it("3. a changed setting reaches the cluster; a disabled control prunes exactly its objects; unlabelled objects are never touched", {
    timeout: T,
  }, async () => {
    // Someone's own Gatekeeper objects, without our label, one of them of a kind we manage.
    await cluster.applyYaml(`apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: { name: team-own-expansion }
spec:
  applyTo: [{ groups: ["apps"], kinds: ["Deployment"], versions: ["v1"] }]
  templateSource: spec.template
  generatedGVK: { kind: Pod, group: "", version: v1 }
`);
    await cluster.applyYaml(`apiVersion: constraints.gatekeeper.sh/v1beta1
kind: GatehouseSysctls
metadata: { name: team-own-sysctls }
spec: { enforcementAction: dryrun }
`);
    const id = (o: Obj) => `${o.metadata.uid}/${o.metadata.generation}`;
    const own = async () => [
      id(await cluster.kubectlJson<Obj>(["get", "expansiontemplate.expansion.gatekeeper.sh", "team-own-expansion"])),
      id(await cluster.kubectlJson<Obj>(["get", "gatehousesysctls.constraints.gatekeeper.sh", "team-own-sysctls"])),
    ];
    const ownBefore = await own();

    // Change: privileged containers only warn now.
    let res = await bed.call("PATCH", `/v1/environments/${bed.envId}/settings/controls/privilegedContainers`, { enforcementAction: "warn" });
    expect(res.status).toBe(200);
    const before = await managedVersions(cluster);
    let pass = await bed.pass();
    expect(pass).toMatchObject({ ok: true, revision: 2 });
    const priv = await cluster.kubectlJson<Obj>(["get", "gatehouseprivilegedcontainers.constraints.gatekeeper.sh", "privileged-containers"]);
    expect(priv.spec.enforcementAction).toBe("warn");
    const after = await managedVersions(cluster);
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    expect(changed).toEqual(["GatehousePrivilegedContainers/privileged-containers"]);

    // Disable sysctls while someone's own constraint of that kind exists: our constraint goes, but
    // the template stays (deleting it would make Gatekeeper delete their constraint with the CRD).
    res = await bed.call("PATCH", `/v1/environments/${bed.envId}/settings/controls/sysctls`, null);
    expect(res.status).toBe(200);
    pass = await bed.pass();
    expect(pass).toMatchObject({ ok: false, revision: 3 });
    expect(pass.results.filter((r) => r.result === "pruned").map((r) => `${r.kind}/${r.name}`)).toEqual(["GatehouseSysctls/sysctls"]);
    expect(pass.results.find((r) => r.name === "gatehousesysctls")).toMatchObject({ result: "error", message: expect.stringContaining("team-own-sysctls") });
    expect(await own()).toEqual(ownBefore);
    expect((await agentView(bed)).inSync).toBe(false);

    // Once they remove theirs, the template is pruned too: exactly the sysctls objects went.
    await cluster.kubectlOk(["delete", "gatehousesysctls.constraints.gatekeeper.sh", "team-own-sysctls"]);
    pass = await bed.pass();
    expect(pass).toMatchObject({ ok: true, revision: 3 });
    expect(pass.results.filter((r) => r.result === "pruned").map((r) => `${r.kind}/${r.name}`)).toEqual(["ConstraintTemplate/gatehousesysctls"]);
    const remaining = await managedVersions(cluster);
    expect([...remaining.keys()].sort()).toEqual([...after.keys()].filter((k) => !k.includes("ysctls")).sort());
    for (const [k, v] of remaining) expect(v, k).toBe(after.get(k));
    expect((await cluster.kubectl(["get", TEMPLATE_API, "gatehousesysctls"])).code).not.toBe(0);
    // The unlabelled expansion template of a kind we manage was never touched.
    const ownExpansion = await cluster.kubectlJson<Obj>(["get", "expansiontemplate.expansion.gatekeeper.sh", "team-own-expansion"]);
    expect(id(ownExpansion)).toBe(ownBefore[0]);
    expect((await agentView(bed)).inSync).toBe(true);
  });

  it("3b. an unlabelled object with a desired name is not taken over", { timeout: T }, async () => {
    await cluster.applyYaml(`apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: { name: gatehouse-cronjob-templates-probe }
spec:
  applyTo: [{ groups: ["batch"], kinds: ["CronJob"], versions: ["v1"] }]
  templateSource: spec.jobTemplate.spec.template
  generatedGVK: { kind: Pod, group: "", version: v1 }
`);
    // Delete ours by hand and put an unlabelled one of the same name in its place.
    await cluster.kubectlOk(["delete", "expansiontemplate.expansion.gatekeeper.sh", "gatehouse-cronjob-templates"]);
    await cluster.applyYaml(`apiVersion: expansion.gatekeeper.sh/v1beta1
kind: ExpansionTemplate
metadata: { name: gatehouse-cronjob-templates }
spec:
  applyTo: [{ groups: ["batch"], kinds: ["CronJob"], versions: ["v1"] }]
  templateSource: spec.jobTemplate.spec.template
  generatedGVK: { kind: Pod, group: "", version: v1 }
`);
    const identity = async () => {
      const o = await cluster.kubectlJson<Obj>(["get", "expansiontemplate.expansion.gatekeeper.sh", "gatehouse-cronjob-templates"]);
      return [o.metadata.uid, o.metadata.generation, o.metadata.labels?.[MANAGED_BY_LABEL]];
    };
    const impostor = await identity();
    const pass = await bed.pass();
    expect(pass.ok).toBe(false);
    const r = pass.results.find((x) => x.name === "gatehouse-cronjob-templates");
    expect(r).toMatchObject({ result: "error", message: expect.stringContaining("without the label app.kubernetes.io/managed-by=gatehouse") });
    expect(await identity()).toEqual(impostor);
    expect(impostor[2]).toBeUndefined();
    expect((await agentView(bed)).error).toContain("gatehouse-cronjob-templates");
    // Hand it back: delete the impostor; the next pass recreates ours.
    await cluster.kubectlOk(["delete", "expansiontemplate.expansion.gatekeeper.sh", "gatehouse-cronjob-templates", "gatehouse-cronjob-templates-probe"]);
    expect(await bed.pass()).toMatchObject({ ok: true });
  });

  it("4. drift — a hand edit and a hand delete — is repaired within one pass", { timeout: T }, async () => {
    // Edit: a value we own changed, and a field we never set added (kubectl edit would do both).
    await cluster.kubectlOk([
      "patch",
      "gatehousehostnamespaces.constraints.gatekeeper.sh",
      "host-namespaces",
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { enforcementAction: "dryrun", match: { namespaces: ["only-this-one"] } } }),
    ]);
    // Our label removed by hand: the object is still ours (our field manager applied it).
    await cluster.kubectlOk(["label", "expansiontemplate.expansion.gatekeeper.sh", "gatehouse-pod-templates", `${MANAGED_BY_LABEL}-`]);
    // Delete: a whole template by hand (Gatekeeper then removes its CRD and constraint too).
    await cluster.kubectlOk(["delete", TEMPLATE_API, "gatehouseprivilegedcontainers"]);
    await sleep(1000);

    const pass = await bed.pass();
    expect(pass.error, JSON.stringify(pass.results)).toBeNull();
    const desired = (await json(await bed.callRoute(routes.rendered.route, `/v1/environments/${bed.envId}/rendered`))).objects as unknown as Obj[]; // Kubernetes objects, as the kubectl reads below see them
    const want = (name: string) => desired.find((o) => o.metadata.name === name)!;
    const host = await cluster.kubectlJson<Obj>(["get", "gatehousehostnamespaces.constraints.gatekeeper.sh", "host-namespaces"]);
    expect(host.spec).toEqual(want("host-namespaces").spec);
    const template = await cluster.kubectlJson<Obj>(["get", TEMPLATE_API, "gatehouseprivilegedcontainers"]);
    expect(template.status?.created).toBe(true);
    const priv = await cluster.kubectlJson<Obj>(["get", "gatehouseprivilegedcontainers.constraints.gatekeeper.sh", "privileged-containers"]);
    expect(priv.spec).toEqual(want("privileged-containers").spec);
    const expansion = await cluster.kubectlJson<Obj>(["get", "expansiontemplate.expansion.gatekeeper.sh", "gatehouse-pod-templates"]);
    expect(expansion.metadata.labels?.[MANAGED_BY_LABEL]).toBe("gatehouse");
    // (Whether the constraint itself had to be re-created depends on how far Gatekeeper got in
    // removing the CRD before the template came back; either way its spec is ours, as checked.)
    const applied = pass.results.filter((r) => r.result === "applied").map((r) => r.name);
    expect(applied).toEqual(expect.arrayContaining(["gatehouse-pod-templates", "gatehouseprivilegedcontainers", "host-namespaces"]));
    expect(
      applied.filter((n) => !["gatehouse-pod-templates", "gatehouseprivilegedcontainers", "host-namespaces", "privileged-containers"].includes(n)),
    ).toEqual([]);

    bed.proxy.reset();
    expect(await bed.pass()).toMatchObject({ ok: true, writes: 0 });
    expect(bed.proxy.counts().writes).toBe(0);
  });

  it("5. API outage: nothing in the cluster changes; the first pass after the API returns applies what changed meanwhile", { timeout: T }, async () => {
    const before = await managedVersions(cluster);
    await bed.stopApi();
    // Meanwhile, in the database: a new revision the agent cannot see yet.
    const tenantId = await bed.api.tenantId(bed.tenant);
    const { setSettings } = await import("../harness/fixtures.ts");
    const revision = await setSettings(bed.api, bed.tenant, bed.envId, {
      ...SETTINGS,
      controls: { privilegedContainers: { enforcementAction: "warn" }, hostNamespaces: {}, procMount: {} },
    });
    expect(tenantId).toBeTruthy();

    bed.proxy.reset();
    for (let i = 0; i < 3; i++) await expect(bed.pass()).rejects.toBeInstanceOf(ApiError);
    // Also drift during the outage is left alone: fail static means no writes at all.
    expect(bed.proxy.counts().writes).toBe(0);
    expect(await managedVersions(cluster)).toEqual(before);

    await bed.startApi();
    const pass = await bed.pass();
    expect(pass).toMatchObject({ ok: true, revision });
    expect(
      pass.results
        .filter((r) => r.result === "applied")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["gatehouseprocmount", "proc-mount"]);
    expect(await agentView(bed)).toMatchObject({ appliedRevision: revision, inSync: true, state: "online" });
  });
});
