// Issue 15 on real components: a draft's shadow constraints evaluated by Gatekeeper's audit against
// the live cluster, through the API and the agent's own passes. Existing privileged and root pods
// are exactly what a draft of the restricted preset lists (the compliant pod is not); a new
// privileged pod is still admitted through the real webhook (failurePolicy Fail, so admitted means
// Gatekeeper answered "allow": shadows never enforce); deleting a draft prunes its shadows;
// promoting the draft makes it the revision and the same pod is refused.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { container, pod } from "../../src/policies/sample.ts";
import { presets } from "../../src/policies/index.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { sleep } from "../harness/cluster-process.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { converge, create, createNamespaces, DENIED, denialLines, managedConstraints, placed, unique, waitEnforced, type Obj } from "../harness/admission.ts";

const T = 240_000;
const fileStart = Date.now();
// The team is observing privileged containers only (dryrun) before it adopts restricted.
const CURRENT = { controls: { privilegedContainers: { enforcementAction: "dryrun" as const } } };

let cluster: Cluster;
let bed: AgentTestbed;
let ns: string;
let draft: Obj;

const hardened = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: true };
const privilegedPod = (name: string) => placed(pod({ containers: [container("app", { securityContext: { privileged: true } })] }), name, ns);
// Hardened in every way but one: it runs as root.
const rootPod = (name: string) =>
  placed(
    pod({ securityContext: { runAsUser: 0, seccompProfile: { type: "RuntimeDefault" } }, containers: [container("app", { securityContext: hardened })] }),
    name,
    ns,
  );
const compliantPod = (name: string) =>
  placed(
    pod({ securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } }, containers: [container("app", { securityContext: hardened })] }),
    name,
    ns,
  );

async function preview(id: string): Promise<Obj> {
  const res = await bed.callRoute(routes.draftsPreview.route, `/v1/environments/${bed.envId}/drafts/${id}/preview`);
  expect(res.status).toBe(200);
  return json(res);
}
const shadowsOf = async (d: Obj) => (await managedConstraints(cluster)).filter((c) => c.metadata.name.startsWith(d.shadowPrefix));

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, failurePolicy: "Fail", auditIntervalSeconds: 3 });
  bed = await startAgentTestbed(cluster, { tenant: "preview-cluster", settings: CURRENT });
  await converge(bed, cluster);
  ns = unique("preview");
  await createNamespaces(cluster, [ns]);
  for (const p of [privilegedPod("privileged"), rootPod("root"), compliantPod("compliant")]) {
    const r = await create(cluster, p);
    expect(r.code, r.stderr).toBe(0);
  }
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
  console.log(`preview: file took ${Math.round((Date.now() - fileStart) / 1000)} s`);
});

describe("impact preview with shadow constraints", () => {
  it("a draft of restricted lists exactly the existing privileged and root pods, split into already violating and new", { timeout: T }, async () => {
    const res = await bed.callRoute(routes.drafts.createDraftRoute, `/v1/environments/${bed.envId}/drafts`, {
      preset: "restricted",
      comment: "adopt restricted",
    });
    expect(res.status, await res.clone().text()).toBe(201);
    draft = await json(res);
    expect((await preview(draft.id)).evaluated).toBe(false);
    let p: Obj | undefined;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const pass = await bed.pass();
      expect(pass.error).toBeNull();
      p = await preview(draft.id);
      const pc = p.controls.find((c: Obj) => c.control === "privilegedContainers");
      const users = p.controls.find((c: Obj) => c.control === "usersAndGroups");
      // Evaluated, the current (dryrun) constraint's audit has opened the privileged pod, and the
      // root pod is listed: Gatekeeper's first audit of a shadow whose template it has only just
      // compiled can run before the constraint is in its engine (0 findings), so the preview
      // follows the next audit, which the agent sends because its results changed.
      if (p.evaluated && pc.alreadyViolating === 1 && users.violations.length === 2) break;
      if (Date.now() > deadline) throw new Error(`preview not evaluated in 120 s: ${JSON.stringify(p)}`);
      await sleep(2000);
    }
    console.log(`PREVIEW: ${JSON.stringify(p)}`);
    expect(p.controls.map((c: Obj) => c.control).sort()).toEqual(Object.keys(presets.restricted.controls).sort());
    const listed = new Set(p.controls.flatMap((c: Obj) => c.violations.map((v: Obj) => `${v.kind} ${v.namespace}/${v.name}`)));
    expect([...listed].sort()).toEqual([`Pod ${ns}/privileged`, `Pod ${ns}/root`]);
    const by = (control: string) => p!.controls.find((c: Obj) => c.control === control);
    expect(by("privilegedContainers")).toMatchObject({
      evaluated: true,
      enforcementAction: "deny",
      totalViolations: 1,
      truncated: false,
      alreadyViolating: 1,
      new: 0,
      violations: [{ kind: "Pod", namespace: ns, name: "privileged", alreadyViolating: true }],
    });
    const users = by("usersAndGroups");
    // Findings, not objects: the root pod has two (runAsUser 0 on the pod, inherited by its container).
    expect(users).toMatchObject({ evaluated: true, totalViolations: 3, alreadyViolating: 0, new: 2 });
    expect(users.violations.map((v: Obj) => v.name).sort()).toEqual(["privileged", "root"]);
    for (const c of p.controls) expect(c.auditTimestamp, c.control).not.toBeNull();
    // The shadows opened no violation: the history holds only the current constraint's one.
    const history = await json(await bed.callRoute(routes.violations.list, `/v1/violations?environment=${bed.envId}&state=open`));
    expect(history.items.map((v: Obj) => `${v.constraint.name} ${v.resource.name}`)).toEqual(["privileged-containers privileged"]);
  });

  it("while the shadows exist, a new privileged pod is still admitted through the webhook", { timeout: T }, async () => {
    const shadows = await shadowsOf(draft);
    expect(shadows.length).toBe(Object.keys(presets.restricted.controls).length);
    for (const s of shadows) expect(s.spec.enforcementAction, s.metadata.name).toBe("dryrun");
    await waitEnforced(cluster); // Gatekeeper's webhook evaluates every shadow from here on
    const r = await create(cluster, privilegedPod("late-privileged"));
    console.log(`ADMITTED (shadows only): code ${r.code} stdout ${JSON.stringify(r.stdout.trim())} stderr ${JSON.stringify(r.stderr)}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
  });

  it("deleting a draft prunes its shadow objects, and only its own", { timeout: T }, async () => {
    const other = await json(await bed.callRoute(routes.drafts.createDraftRoute, `/v1/environments/${bed.envId}/drafts`, { preset: "baseline" }));
    expect((await bed.pass()).error).toBeNull();
    expect((await shadowsOf(other)).length).toBe(Object.keys(presets.baseline.controls).length);
    expect((await bed.call("DELETE", `/v1/environments/${bed.envId}/drafts/${other.id}`)).status).toBe(204);
    const pass = await bed.pass();
    expect(pass.error).toBeNull();
    expect(pass.results.filter((x) => x.result === "pruned" && x.name.startsWith(other.shadowPrefix)).length).toBe(
      Object.keys(presets.baseline.controls).length,
    );
    expect(await shadowsOf(other)).toEqual([]);
    expect((await shadowsOf(draft)).length).toBe(Object.keys(presets.restricted.controls).length);
  });

  it("promoting the draft makes it the revision: its shadows are pruned and a privileged pod is refused", { timeout: T }, async () => {
    const settings = await bed.call("GET", `/v1/environments/${bed.envId}/settings`);
    const etag = settings.headers.get("etag")!;
    const res = await bed.callRoute(routes.drafts.promoteRoute, `/v1/environments/${bed.envId}/drafts/${draft.id}/promote`, undefined, { "if-match": etag });
    expect(res.status, await res.clone().text()).toBe(201);
    const rev = await json(res);
    console.log(`PROMOTED: revision ${rev.revision}, comment ${JSON.stringify(rev.comment)}`);
    await converge(bed, cluster);
    expect(await shadowsOf(draft)).toEqual([]);
    const live = await managedConstraints(cluster);
    expect(live.length).toBe(Object.keys(presets.restricted.controls).length);
    for (const c of live) expect(c.spec.enforcementAction ?? "deny", c.metadata.name).toBe("deny");
    const r = await create(cluster, privilegedPod("after-promotion"));
    console.log(`REFUSED (after promotion): ${r.stderr}`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(DENIED);
    expect(denialLines(r.stderr).map((l) => l.constraint)).toContain("privileged-containers");
    expect((await bed.call("GET", `/v1/environments/${bed.envId}/drafts`)).status).toBe(200);
  });
});
