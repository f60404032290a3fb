// Issue #7, part 2: what a user meets at `kubectl create` through the real Gatekeeper webhook —
// warn and dryrun, exemptions (namespace glob, image prefix, expiry), the PSS presets, what stays
// out of scope (system namespaces, the agent's own Deployment), and what happens while Gatekeeper
// is down under either failurePolicy. Settings go through the user API and are applied by the
// agent's own pass; objects are created with kubectl as the admin user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { agentDeployment, AGENT_NAMESPACE } from "../../src/install/agent-manifest.ts";
import { corpus } from "../../src/policies/presets/corpus.ts";
import { container, pod, workload, IMAGE } from "../../src/policies/sample.ts";
import { startCluster, WEBHOOK_CONFIGURATION_NAME, type Cluster } from "../harness/cluster.ts";
import { sleep, waitUntil } from "../harness/cluster-process.ts";
import type { Problem } from "../../src/app/problem.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { DENIED, auditReport, converge, create, createNamespaces, denialLines, patchControl, placed, warningLines, type Obj } from "../harness/admission.ts";

const T = 240_000;
const fileStart = Date.now();
const CNI_IMAGE = "registry.example.com/cni/agent:2.1";

let cluster: Cluster;
let bed: AgentTestbed;

const privileged = { securityContext: { privileged: true } };
const privilegedPod = (ns: string, name = "root-shell", image = IMAGE): Obj =>
  placed(pod({ containers: [container("app", { image, ...privileged })] }), name, ns);
/** The finding about a pod, or (`subject`, `containerPath`) about a workload's pod template. */
const message = (ns: string, name: string, image = IMAGE, subject = `pod ${ns}/${name}`, containerPath = "containers[0]") =>
  `${subject}: container "app" (${containerPath}, image ${image}): securityContext.privileged is true; privileged containers are not allowed. ` +
  `To allow it, exempt namespace "${ns}" or image "${image}" in Gatehouse control privileged-containers.`;
/** A workload's finding names the workload and the container's path in it (Gatekeeper reviews its pod template). */
const workloadMessage = (ns: string, w: Obj) =>
  message(
    ns,
    w.metadata.name,
    IMAGE,
    `${w.kind} ${ns}/${w.metadata.name}`,
    w.kind === "CronJob" ? "spec.jobTemplate.spec.template.spec.containers[0]" : "spec.template.spec.containers[0]",
  );
const deniedText = (ns: string, name: string) =>
  `Error from server (Forbidden): error when creating "STDIN": ${DENIED}: [privileged-containers] ${message(ns, name)}`;
const workloads = (ns: string): Obj[] => [
  ...(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"] as const).map((k) =>
    placed(workload(k, { containers: [container("app", privileged)] }), k.toLowerCase(), ns),
  ),
  {
    apiVersion: "v1",
    kind: "ReplicationController",
    metadata: { name: "replicationcontroller", namespace: ns },
    spec: { selector: { app: "s" }, template: { metadata: { labels: { app: "s" } }, spec: { containers: [container("app", privileged)] } } },
  },
];

/** The agent's view of the desired state: its ETag changes when an exemption expires. */
async function desiredStateEtag(): Promise<string> {
  const res = await fetch(`${bed.apiUrl}/agent/v1/desired-state`, { headers: { authorization: `Bearer ${bed.agentToken}` } });
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return res.headers.get("etag")!;
}

beforeAll(async () => {
  // Gatekeeper's Helm chart (v3.23.0) registers its validating webhook with failurePolicy Ignore.
  cluster = await startCluster({ webhook: true, failurePolicy: "Ignore", auditIntervalSeconds: 3 });
  bed = await startAgentTestbed(cluster, {
    tenant: "admission-modes",
    settings: { enforcementAction: "deny", controls: { privilegedContainers: {} } },
  });
  await converge(bed, cluster);
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
  console.log(`admission-modes: file took ${Math.round((Date.now() - fileStart) / 1000)} s`);
});

describe("enforcement actions, switched through the API", () => {
  it("deny: a privileged pod and every workload kind with a privileged template are refused, naming control, container, field, value and the exemptions", {
    timeout: T,
  }, async () => {
    const ns = "modes-deny";
    await createNamespaces(cluster, [ns]);
    const p = await create(cluster, privilegedPod(ns));
    expect(p.code).not.toBe(0);
    expect(p.stderr.trim()).toBe(deniedText(ns, "root-shell"));
    // The [name] in a denial is a constraint a user can look up: its kind is Gatehouse<Control>.
    const constraints = await cluster.kubectlOk(["get", "constraints"]);
    // (kubectl prefixes kind.group/ only when several constraint kinds exist; TOTAL-VIOLATIONS stays
    // empty until Gatekeeper's first audit of the constraint, which may not have run yet)
    expect(constraints).toMatch(/^(gatehouseprivilegedcontainers\.constraints\.gatekeeper\.sh\/)?privileged-containers\s+deny(\s+\d+)?\s*$/m);
    console.log(`kubectl get constraints:\n${constraints}`);
    const yaml = await cluster.kubectlOk(["get", "gatehouseprivilegedcontainers", "privileged-containers", "-o", "yaml"]);
    expect(yaml).toContain("enforcementAction: deny");
    expect(yaml).toContain("gatehouse.dev/control: privileged-containers");
    for (const w of workloads(ns)) {
      const r = await create(cluster, w);
      expect(r.code, w.kind).not.toBe(0);
      const via = w.kind === "CronJob" ? "gatehouse-cronjob-templates" : "gatehouse-pod-templates";
      // Gatekeeper names the pod it expands from a workload <workload name>-pod; the message names the workload.
      expect(denialLines(r.stderr), w.kind).toEqual([{ constraint: "privileged-containers", message: `[Implied by ${via}] ${workloadMessage(ns, w)}` }]);
    }
  });

  it("warn: the same objects are admitted, and kubectl prints each finding as a Warning: line", { timeout: T }, async () => {
    await patchControl(bed, "privilegedContainers", { enforcementAction: "warn" });
    await converge(bed, cluster);
    const ns = "modes-warn";
    await createNamespaces(cluster, [ns]);
    const p = await create(cluster, privilegedPod(ns));
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout.trim()).toBe("pod/root-shell created");
    expect(p.stderr.trim()).toBe(`Warning: [privileged-containers] ${message(ns, "root-shell")}`);
    for (const w of workloads(ns)) {
      const r = await create(cluster, w);
      expect(r.code, `${w.kind}: ${r.stderr}`).toBe(0);
      const via = w.kind === "CronJob" ? "gatehouse-cronjob-templates" : "gatehouse-pod-templates";
      expect(warningLines(r.stderr), w.kind).toEqual([`Warning: [privileged-containers] [Implied by ${via}] ${workloadMessage(ns, w)}`]);
    }
  });

  it("dryrun: admitted silently, and the violation reaches the API through the agent's audit report", { timeout: T }, async () => {
    await patchControl(bed, "privilegedContainers", { enforcementAction: "dryrun" });
    await converge(bed, cluster);
    const ns = "modes-dryrun";
    await createNamespaces(cluster, [ns]);
    const p = await create(cluster, privilegedPod(ns));
    expect(p.code, p.stderr).toBe(0);
    expect(p.stderr).toBe("");
    for (const w of workloads(ns)) {
      const r = await create(cluster, w);
      expect(r.code, `${w.kind}: ${r.stderr}`).toBe(0);
      expect(r.stderr, w.kind).toBe("");
    }
    let found: { constraint: Obj; violation: Obj } | undefined;
    const deadline = Date.now() + 60_000;
    while (!found && Date.now() < deadline) {
      await bed.pass();
      const c = (await auditReport(bed))?.constraints.find((x: Obj) => x.name === "privileged-containers");
      const v = c?.enforcementAction === "dryrun" ? c.violations.find((x: Obj) => x.namespace === ns && x.name === "root-shell") : undefined;
      if (v) found = { constraint: c, violation: v };
      else await sleep(2000);
    }
    expect(found, "the dryrun pod in GET …/audit-report within 60 s").toBeDefined();
    expect(found!.violation).toMatchObject({ kind: "Pod", namespace: ns, name: "root-shell", enforcementAction: "dryrun" });
    // Gatekeeper's audit cuts a stored message to 256 characters (pkg/audit/manager.go, msgSize):
    // the report carries the container, field and value, but not always the whole exemption hint.
    const full = message(ns, "root-shell");
    expect(full.length).toBeGreaterThan(256);
    expect(found!.violation.message).toBe(`${full.slice(0, 253)}...`);
    console.log(`AUDIT (dryrun) violation message: ${found!.violation.message}`);
    await patchControl(bed, "privilegedContainers", { enforcementAction: "deny" });
    await converge(bed, cluster);
  });
});

describe("exemptions", () => {
  it("a namespace glob and an image prefix are admitted; everything else is still refused", { timeout: T }, async () => {
    // Patterns are prefixes: a * inside the name is refused by the API with its path.
    const inner = await bed.call("PATCH", `/v1/environments/${bed.envId}/settings/controls/privilegedContainers`, {
      exemptions: { namespaces: [{ pattern: "team-*-sandbox" }] },
    });
    expect(inner.status).toBe(400);
    const problem = await json<Problem>(inner);
    expect(problem.errors).toContainEqual({
      path: expect.stringMatching(/namespaces.*0.*pattern$/),
      message: expect.stringContaining("optionally ending in * to match a prefix"),
    });
    await patchControl(bed, "privilegedContainers", {
      exemptions: {
        namespaces: [{ pattern: "sandbox-*", reason: "teams' experiments" }],
        images: [{ pattern: "registry.example.com/cni/*", reason: "the CNI agent" }],
      },
    });
    await converge(bed, cluster);
    await createNamespaces(cluster, ["sandbox-team-a", "team-a-prod"]);
    const sandbox = await create(cluster, privilegedPod("sandbox-team-a"));
    expect(sandbox.code, sandbox.stderr).toBe(0);
    expect(sandbox.stderr).toBe("");
    const prod = await create(cluster, privilegedPod("team-a-prod"));
    expect(prod.stderr.trim()).toBe(deniedText("team-a-prod", "root-shell"));
    const cni = await create(cluster, privilegedPod("team-a-prod", "cni", CNI_IMAGE));
    expect(cni.code, cni.stderr).toBe(0);
    // Only the exempt image: a privileged sidecar in the same pod is refused, by name.
    const both = placed(
      pod({ containers: [container("cni", { image: CNI_IMAGE, ...privileged }), container("sidecar", privileged)] }),
      "cni-and-sidecar",
      "team-a-prod",
    );
    const r = await create(cluster, both);
    expect(r.code).not.toBe(0);
    expect(denialLines(r.stderr)).toEqual([
      {
        constraint: "privileged-containers",
        message:
          `pod team-a-prod/cni-and-sidecar: container "sidecar" (containers[1], image ${IMAGE}): securityContext.privileged is true; privileged containers are not allowed. ` +
          `To allow it, exempt namespace "team-a-prod" or image "${IMAGE}" in Gatehouse control privileged-containers.`,
      },
    ]);
  });

  it("an exemption past its expiresAt is no longer rendered: the desired state changes and the object is refused again", { timeout: T }, async () => {
    // Long enough for the agent and Gatekeeper to apply it on this shared machine.
    const expiresAt = new Date(Date.now() + 30_000);
    await patchControl(bed, "privilegedContainers", {
      exemptions: { namespaces: [{ pattern: "sandbox-*", reason: "until the migration ends", expiresAt: expiresAt.toISOString() }], images: [] },
    });
    await converge(bed, cluster);
    const before = await desiredStateEtag();
    await createNamespaces(cluster, ["sandbox-expiring-1", "sandbox-expiring-2"]);
    const admitted = await create(cluster, privilegedPod("sandbox-expiring-1"));
    expect(Date.now(), "the exemption expired before it could be checked").toBeLessThan(expiresAt.getTime());
    expect(admitted.code, admitted.stderr).toBe(0);

    await sleep(Math.max(0, expiresAt.getTime() - Date.now() + 1000));
    const after = await desiredStateEtag();
    expect(after).not.toBe(before);
    const pass = await converge(bed, cluster);
    expect(pass.results.filter((x) => x.result === "applied").map((x) => x.name)).toEqual(["privileged-containers"]);
    const refused = await create(cluster, privilegedPod("sandbox-expiring-2"));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.trim()).toBe(deniedText("sandbox-expiring-2", "root-shell"));
    const live = await cluster.kubectlJson(["get", "gatehouseprivilegedcontainers.constraints.gatekeeper.sh", "privileged-containers"]);
    expect(live.spec.match.excludedNamespaces).not.toContain("sandbox-*");
  });
});

describe("Pod Security Standards presets", () => {
  it("restricted: a compliant Deployment is admitted, a baseline-only one is refused listing every failing check, and every corpus pod gets exactly its PSS verdict", {
    timeout: T,
  }, async () => {
    const res = await bed.call("POST", `/v1/environments/${bed.envId}/settings/preset`, { preset: "restricted" });
    expect(res.status).toBe(201);
    await converge(bed, cluster);
    const ns = "preset-restricted";
    await createNamespaces(cluster, [ns]);

    const compliant = placed(corpus.find((e) => e.name === "restricted-deployment")!.object, "compliant", ns);
    const ok = await create(cluster, compliant);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toBe("");

    // An ordinary app: what PSS baseline admits, with no securityContext at all.
    const plain = placed(
      workload("Deployment", { containers: [container("web", { image: "nginx:1.27", ports: [{ containerPort: 80 }] })] }),
      "baseline-only",
      ns,
    );
    const refused = await create(cluster, plain);
    expect(refused.code).not.toBe(0);
    const lines = denialLines(refused.stderr);
    expect([...new Set(lines.map((l) => l.constraint))].sort()).toEqual(["capabilities", "privilege-escalation", "seccomp", "users-and-groups"]);
    expect(lines).toHaveLength(4);
    for (const l of lines)
      expect(l.message).toMatch(
        /^\[Implied by gatehouse-pod-templates\] Deployment preset-restricted\/baseline-only: container "web" \(spec\.template\.spec\.containers\[0\], image nginx:1\.27\): /,
      );
    console.log(`DENIAL restricted preset (Deployment):\n${refused.stderr.trim()}`);

    // The whole corpus, each in its own namespace: exactly the controls PSS restricted fails. Two
    // corpus pods are refused by the API server's own validation before any webhook is asked.
    const apiInvalid: Record<string, RegExp> = {
      "proc-mount-unmasked": /securityContext\.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`/,
      "privileged-debug-container": /spec\.ephemeralContainers: Forbidden: cannot be set on create/,
    };
    const wrong: string[] = [];
    const nss = corpus.map((e) => `corpus-${e.name}`.slice(0, 63));
    await createNamespaces(cluster, nss);
    for (const [i, e] of corpus.entries()) {
      const obj = placed(e.object, e.name, nss[i]!);
      if (obj.kind === "Pod") obj.spec.serviceAccountName ??= "default"; // what the ServiceAccount admission plugin would do
      const r = await create(cluster, obj);
      const invalid = apiInvalid[e.name];
      if (invalid) {
        if (r.code === 0 || r.stderr.includes(DENIED) || !invalid.test(r.stderr))
          wrong.push(`${e.name}: expected the API's own refusal ${invalid}, got ${r.stderr.trim() || "admitted"}`);
        continue;
      }
      const got = [...new Set(denialLines(r.stderr).map((l) => l.constraint))].sort();
      const want = [...e.restricted].sort();
      if (want.length === 0 && r.code !== 0) wrong.push(`${e.name}: expected admitted, got ${r.stderr.trim()}`);
      if (want.length > 0 && JSON.stringify(got) !== JSON.stringify(want))
        wrong.push(`${e.name}: expected ${want.join(",")}, got ${got.join(",") || r.stderr.trim() || "admitted"}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe("out of scope stays untouched", () => {
  it("kube-system, gatekeeper-system and gatehouse-system are not checked by default; the agent's Deployment passes restricted in its namespace and in any other", {
    timeout: T,
  }, async () => {
    // Still the restricted preset from the previous test; environment exemptions at their default.
    const settings = await json(await bed.callRoute(routes.settings.getSettings, `/v1/environments/${bed.envId}/settings`));
    expect(settings.settings.exemptions.namespaces.map((n: Obj) => n.pattern).sort()).toEqual(["gatehouse-system", "gatekeeper-system", "kube-system"]);
    await cluster.kubectlOk(["get", "namespace", "kube-system"]); // the API server makes it itself
    for (const ns of ["kube-system", "gatekeeper-system", AGENT_NAMESPACE]) {
      const r = await create(cluster, privilegedPod(ns, `system-${ns}`));
      expect(r.code, `${ns}: ${r.stderr}`).toBe(0);
      expect(r.stderr, ns).toBe("");
    }
    const agent = agentDeployment({ apiUrl: bed.apiUrl });
    const inPlace = await create(cluster, agent);
    expect(inPlace.code, inPlace.stderr).toBe(0);
    expect(inPlace.stderr).toBe("");
    await createNamespaces(cluster, ["agent-check"]);
    const copy = await create(cluster, placed(agent, "gatehouse-agent", "agent-check"));
    expect(copy.code, copy.stderr).toBe(0);
    expect(copy.stderr).toBe("");
    // The same namespace is checked for anyone else's privileged pod.
    const other = await create(cluster, privilegedPod("agent-check"));
    expect(other.code).not.toBe(0);
    expect(denialLines(other.stderr).map((l) => l.constraint)).toContain("privileged-containers");
  });
});

describe("Gatekeeper down", () => {
  it("failurePolicy Ignore (Gatekeeper's Helm default) fails open — audit reports what slipped in; Fail refuses everything the webhook matches, kube-system included", {
    timeout: 300_000,
  }, async () => {
    await bed.call("POST", `/v1/environments/${bed.envId}/settings/preset`, { preset: "baseline" });
    await converge(bed, cluster);
    const ns = "while-down";
    await createNamespaces(cluster, [ns]);
    const vwc = await cluster.kubectlJson(["get", "validatingwebhookconfiguration", WEBHOOK_CONFIGURATION_NAME]);
    expect(vwc.webhooks[0].failurePolicy).toBe("Ignore");

    await cluster.stopGatekeeper();
    const t0 = Date.now();
    const slipped = await create(cluster, privilegedPod(ns, "slipped-in"));
    console.log(`WEBHOOK DOWN (Ignore), ${Date.now() - t0} ms: code ${slipped.code}\n${slipped.stdout}${slipped.stderr}`);
    expect(slipped.code, slipped.stderr).toBe(0);
    expect(slipped.stderr).toBe("");

    await cluster.kubectlOk([
      "patch",
      "validatingwebhookconfiguration",
      WEBHOOK_CONFIGURATION_NAME,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Fail" }]),
    ]);
    const t1 = Date.now();
    const refused = await create(cluster, privilegedPod(ns, "refused"));
    console.log(`WEBHOOK DOWN (Fail), ${Date.now() - t1} ms: code ${refused.code}\n${refused.stderr}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(
      /Internal error occurred: failed calling webhook "validation\.gatekeeper\.sh": failed to call webhook: Post "https:\/\/127\.0\.0\.1:\d+\/v1\/admit\?timeout=3s": dial tcp 127\.0\.0\.1:\d+: connect: connection refused/,
    );
    // Fail also blocks what no constraint checks: a plain pod in kube-system (exempt from every
    // control, but the webhook is still called) …
    const system = await create(cluster, placed(pod(), "system-plain", "kube-system"));
    expect(system.code).not.toBe(0);
    expect(system.stderr).toContain('failed calling webhook "validation.gatekeeper.sh"');
    // … while gatekeeper-system, carrying admission.gatekeeper.sh/ignore, stays reachable for repair.
    const repair = await create(cluster, placed(pod(), "repair", "gatekeeper-system"));
    expect(repair.code, repair.stderr).toBe(0);

    await cluster.kubectlOk([
      "patch",
      "validatingwebhookconfiguration",
      WEBHOOK_CONFIGURATION_NAME,
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: "/webhooks/0/failurePolicy", value: "Ignore" }]),
    ]);
    await cluster.startGatekeeper();
    await waitUntil(
      "the webhook to deny again",
      async () => {
        const r = await create(cluster, privilegedPod(ns, `after-${Date.now()}`));
        return r.code !== 0 && r.stderr.includes(DENIED);
      },
      { timeoutMs: 90_000, intervalMs: 1000 },
    );
    // What slipped in while the webhook was down is found by Gatekeeper's audit and reaches the API.
    let found: Obj | undefined;
    const deadline = Date.now() + 90_000;
    while (!found && Date.now() < deadline) {
      await bed.pass();
      const c = (await auditReport(bed))?.constraints.find((x: Obj) => x.name === "privileged-containers");
      found = c?.violations.find((v: Obj) => v.namespace === ns && v.name === "slipped-in");
      if (!found) await sleep(2000);
    }
    expect(found, "the pod admitted while Gatekeeper was down, in the audit report").toMatchObject({ kind: "Pod", enforcementAction: "deny" });
  });
});
