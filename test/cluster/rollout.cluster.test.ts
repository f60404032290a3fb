// Issue 15's staged promotion on real components (kube-apiserver, kube-controller-manager,
// Gatekeeper's audit and webhook with admission events, the agent's own passes, the API on
// PostgreSQL), with the scheduler's pass run by the test on the real clock:
// - a draft's preview names the Deployment that owns a listed Pod, and a privileged Pod created
//   while the draft exists is in its preview as a new object it would refuse (not a denial);
// - a staged plan (dryrun → warn → deny, each step when clean for CLEAN_SECONDS) does not move
//   while a violating Pod exists, and moves to warn and then deny once the audit is clean;
// - after it, the same Pod is refused at admission.
// CLEAN_SECONDS is short so the test is minutes, not days: the API accepts down to 1 s, but a
// step needs an audit after its window ends, so the practical floor is Gatekeeper's
// --audit-interval (3 s here) plus the agent's poll and the scheduler's interval.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { container, IMAGE, pod } from "../../src/policies/sample.ts";
import { runRolloutPass } from "../../src/services/rollouts.ts";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { converge, create, createNamespaces, DENIED, denialLines, managedConstraints, placed, unique, type Obj } from "../harness/admission.ts";
import type { RouteConfig } from "@hono/zod-openapi";
import { json, type PathOf, type ResponseBodyOf } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { sleep, waitUntil } from "../harness/cluster-process.ts";

const T = 300_000;
const CLEAN_SECONDS = 5;
const fileStart = Date.now();
const CURRENT = { controls: { privilegedContainers: { enforcementAction: "dryrun" as const } } };

let cluster: Cluster;
let bed: AgentTestbed;
let ns: string;

const privileged = { privileged: true };
const deployment = (name: string): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns, labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [container("app", { image: IMAGE, securityContext: privileged })] } },
  },
});
const privilegedPod = (name: string) => placed(pod({ containers: [container("app", { securityContext: privileged })] }), name, ns);

async function get<R extends RouteConfig>(route: R, path: PathOf<R["path"]> | `${PathOf<R["path"]>}?${string}`): Promise<ResponseBodyOf<R>> {
  const res = await bed.callRoute(route, path);
  expect(res.status, await res.clone().text()).toBe(200);
  return json(res);
}
const rolloutPass = () => runRolloutPass({ db: bed.api.db, now: () => new Date(), pollIntervalSeconds: bed.api.config.agent.pollIntervalSeconds });

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, failurePolicy: "Fail", controllers: true, admissionEvents: true, auditIntervalSeconds: 3 });
  bed = await startAgentTestbed(cluster, { tenant: "rollout-cluster", settings: CURRENT });
  await converge(bed, cluster);
  ns = unique("rollout");
  await createNamespaces(cluster, [ns]);
  // Admitted: privilegedContainers is only recorded (dryrun). The ReplicaSet controller makes its Pod.
  const r = await create(cluster, deployment("web"));
  expect(r.code, r.stderr).toBe(0);
  await waitUntil(
    "the Deployment's Pod",
    async () => ((await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns])).items.length === 1 ? true : undefined),
    { timeoutMs: 90_000, intervalMs: 500 },
  );
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
  console.log(`rollout: file took ${Math.round((Date.now() - fileStart) / 1000)} s`);
});

describe("preview owners and admissions, then a staged rollout", () => {
  it("the preview names the owning Deployment, and lists a new privileged Pod as an object the draft would refuse", { timeout: T }, async () => {
    const res = await bed.callRoute(routes.drafts.createDraftRoute, `/v1/environments/${bed.envId}/drafts`, {
      controls: { privilegedContainers: { enforcementAction: "deny" } },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const draft = await json(res);
    expect((await bed.pass()).error).toBeNull();
    await sleep(3000); // the webhook learns the shadow constraint
    const late = await create(cluster, privilegedPod("late"));
    expect(late.code, late.stderr).toBe(0); // a shadow never refuses
    let p: Obj | undefined;
    const deadline = Date.now() + 120_000;
    for (;;) {
      expect((await bed.pass()).error).toBeNull();
      p = (await get(routes.draftsPreview.route, `/v1/environments/${bed.envId}/drafts/${draft.id}/preview`)).controls[0];
      const listed = (name: RegExp) => p!.violations.some((v: Obj) => v.kind === "Pod" && name.test(v.name));
      if (p!.evaluated && listed(/^web-/) && listed(/^late$/) && p!.admissions.some((a: Obj) => a.name === "late")) break;
      if (Date.now() > deadline) {
        const shadow = (await managedConstraints(cluster)).find((c) => c.metadata.name.startsWith(draft.shadowPrefix));
        const log = (await readFile(join(cluster.dir, "gatekeeper.log"), "utf8")).split("\n").filter((l) => l.includes(draft.shadowPrefix) || /error/i.test(l));
        console.log(`SHADOW STATUS: ${JSON.stringify(shadow?.status)}\nGATEKEEPER LOG:\n${log.slice(-40).join("\n")}`);
        throw new Error(`preview incomplete in 120 s: ${JSON.stringify(p)}`);
      }
      await sleep(2000);
    }
    console.log(`PREVIEW (privilegedContainers): ${JSON.stringify(p)}`);
    const web = p!.violations.find((v: Obj) => v.kind === "Pod" && v.name.startsWith("web-"));
    expect(web).toMatchObject({ kind: "Pod", namespace: ns, owner: { kind: "Deployment", name: "web" } });
    expect(p!.violations.find((v: Obj) => v.name === "late")).toMatchObject({ owner: null });
    expect(p!.admissions.find((a: Obj) => a.name === "late")).toMatchObject({ kind: "Pod", namespace: ns, workload: { kind: "Pod", name: "late" }, count: 1 });
    // Not a denial: the history holds only the current (dryrun) constraint's record of it.
    const denials = await get(routes.denials.list, `/v1/denials?environment=${bed.envId}`);
    expect(denials.items.map((d: Obj) => d.constraint.name)).not.toContain(expect.stringMatching(/^preview-/));
    expect((await bed.call("DELETE", `/v1/environments/${bed.envId}/drafts/${draft.id}`)).status).toBe(204);
    expect((await cluster.kubectl(["delete", "pod", "late", "-n", ns, "--wait=false"])).code).toBe(0);
  });

  it("a staged plan does not move while a violating Pod exists, then goes dryrun → warn → deny once the audit is clean", { timeout: T }, async () => {
    const res = await bed.callRoute(routes.rollouts.createPlanRoute, `/v1/environments/${bed.envId}/rollouts`, {
      control: "privilegedContainers",
      steps: [
        { to: "warn", when: { cleanForSeconds: CLEAN_SECONDS } },
        { to: "deny", when: { cleanForSeconds: CLEAN_SECONDS } },
      ],
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const plan = await json(res);
    const path = `/v1/environments/${bed.envId}/rollouts/${plan.id}` as const;
    // Well past the clean window, with audits every 3 s: the Deployment's Pod holds the step.
    const holdUntil = Date.now() + 4 * CLEAN_SECONDS * 1000;
    let held: Obj | undefined;
    while (Date.now() < holdUntil) {
      expect((await bed.pass()).error).toBeNull();
      expect(await rolloutPass()).toMatchObject({ promoted: 0, failed: 0 });
      held = await get(routes.rollouts.getRoute, path);
      await sleep(2000);
    }
    console.log(`HELD: ${JSON.stringify(held!.next)}`);
    expect(held).toMatchObject({ state: "active", currentAction: "dryrun", next: { due: false, cleanSince: null } });
    // The Deployment, its ReplicaSet and its Pod are all open violations (expansion covers the first
    // two), opened by the same audit: the reason names one of them.
    expect(held!.next.waiting.join(" ")).toMatch(/open violations? of privilegedContainers \((Pod|ReplicaSet|Deployment) [^/]+\/web\b/);
    expect((await get(routes.settings.getSettings, `/v1/environments/${bed.envId}/settings`)).settings.controls.privilegedContainers!.enforcementAction).toBe(
      "dryrun",
    );

    // The team removes the workload (its Deployment and ReplicaSet are audited too, through the
    // expansion template: each is deleted, not left to the garbage collector); the audit comes back clean.
    for (const kind of ["deployment", "replicaset", "pod"])
      expect((await cluster.kubectl(["delete", kind, "-n", ns, "-l", "app=web", "--cascade=orphan"])).code).toBe(0);
    const seen: string[] = [];
    const deadline = Date.now() + 180_000;
    let p: Obj;
    for (;;) {
      expect((await bed.pass()).error).toBeNull();
      await rolloutPass();
      p = await get(routes.rollouts.getRoute, path);
      const at = `${p.currentAction}:${p.state}`;
      if (seen.at(-1) !== at) {
        seen.push(at);
        console.log(`PLAN ${at}: ${JSON.stringify(p.next)}`);
      }
      if (p.state === "completed") break;
      if (Date.now() > deadline) throw new Error(`plan did not complete in 180 s: ${JSON.stringify(p)}`);
      await sleep(1500);
    }
    expect(seen).toEqual(["dryrun:active", "warn:active", "deny:completed"]);
    expect(p.steps.map((s: Obj) => s.by)).toEqual(["gatehouse:rollout", "gatehouse:rollout"]);
    const revisions = await get(routes.revisions.listRoute, `/v1/environments/${bed.envId}/settings/revisions`);
    console.log(`REVISIONS: ${JSON.stringify(revisions.items.slice(0, 2).map((r: Obj) => ({ revision: r.revision, author: r.author, comment: r.comment })))}`);

    await converge(bed, cluster);
    const r = await create(cluster, privilegedPod("after-rollout"));
    console.log(`REFUSED (after rollout): ${r.stderr}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(DENIED);
    expect(denialLines(r.stderr).map((l) => l.constraint)).toContain("privileged-containers");
  });
});
