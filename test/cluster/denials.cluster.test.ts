// Admission-denial history on the real components: kube-controller-manager creates the Pods,
// Gatekeeper's webhook refuses them and records admission Events, the agent forwards them, and the
// API files them under the workload: a Deployment whose ReplicaSet's Pods are refused (the
// Deployment itself was admitted before the control was enabled) is one row with a growing count,
// a CronJob's refused Jobs are one row under the CronJob, a kubectl user's refused Pod names that
// user, warn mode is its own row, an agent restart adds nothing, and the whole crash loop is one
// signed admission.denied at a real receiver.
// First: the app (through the testbed) extends zod with .openapi() before the policies load.
import { passUntilSettled, startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initialState } from "../../agent/reconcile.ts";
import { container, IMAGE, pod } from "../../src/policies/sample.ts";
import { converge, create, createNamespaces, placed, putSettings, unique, type Obj } from "../harness/admission.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { waitUntil } from "../harness/cluster-process.ts";
import { startReceiver, verifyWith, type Receiver } from "../harness/webhook-receiver.ts";
import { createDispatcher } from "../../src/services/webhook-dispatcher.ts";

const T = 240_000;
let cluster: Cluster;
let bed: AgentTestbed;

const deployment = (ns: string, name: string, spec: Obj): Obj => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace: ns },
  spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec } },
});

interface DenialJson {
  action: string;
  control: string | null;
  namespace: string;
  workload: { kind: string; name: string };
  object: { kind: string; name: string };
  username: string;
  message: string;
  count: number;
}
const denials = async (query: string): Promise<DenialJson[]> =>
  (await json(await bed.callRoute(routes.denials.list, `/v1/denials?environment=${bed.envId}&${query}`))).items;

/** Agent passes until the API shows a denial matching `query` that satisfies `ok`. */
async function passUntil(query: string, ok: (d: DenialJson) => boolean, what: string): Promise<DenialJson> {
  return waitUntil(
    what,
    async () => {
      const pass = await bed.pass();
      if (!pass.ok) throw new Error(`agent pass failed: ${pass.error}`);
      return (await denials(query)).find(ok);
    },
    { timeoutMs: 120_000, intervalMs: 1000 },
  );
}

let ns: string;
let receiver: Receiver;
let hookSecret: string;
beforeAll(async () => {
  cluster = await startCluster({ webhook: true, controllers: true, admissionEvents: true });
  bed = await startAgentTestbed(cluster, { tenant: "denials-cluster", settings: {}, webhooks: { allowHttp: true, allowPrivate: true } });
  receiver = await startReceiver();
  const hook = await bed.callRoute(routes.webhooks.create, "/v1/webhooks", { url: receiver.url, events: ["admission.denied", "admission.warned"] });
  expect(hook.status).toBe(201);
  hookSecret = (await json(hook)).secret;
  ns = unique("den");
  await createNamespaces(cluster, [ns]);
  // Created while nothing is enforced: the Deployment and its first Pod are admitted.
  await cluster.applyYaml(
    JSON.stringify(deployment(ns, "root-web", { containers: [container("app", { image: IMAGE, securityContext: { privileged: true } })] })),
  );
  // A CronJob, admitted likewise: each Job it makes from now on is refused (through expansion).
  await cluster.applyYaml(
    JSON.stringify({
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { name: "nightly", namespace: ns },
      spec: {
        schedule: "* * * * *",
        jobTemplate: {
          spec: { template: { spec: { restartPolicy: "Never", containers: [container("job", { image: IMAGE, securityContext: { privileged: true } })] } } },
        },
      },
    }),
  );
  await waitUntil(
    "root-web's first Pod",
    async () => (await cluster.kubectlJson<{ items: Obj[] }>(["get", "pods", "-n", ns, "-l", "app=root-web"])).items.length === 1,
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  await putSettings(bed, {
    controls: { privilegedContainers: { enabled: true, enforcementAction: "deny" }, hostNamespaces: { enabled: true, enforcementAction: "warn" } },
  });
  await converge(bed, cluster);
}, 600_000);
afterAll(async () => {
  await receiver?.close();
  await bed?.close();
  await cluster?.stop();
});

describe("admission-denial history (kube-controller-manager, Gatekeeper's webhook and admission events, the agent, the API)", () => {
  it("a ReplicaSet's refused Pods are one row under their Deployment, counting up, naming the controller", { timeout: T }, async () => {
    // The Pod goes; its ReplicaSet tries to replace it, and every try is refused.
    await cluster.kubectlOk(["delete", "pod", "-n", ns, "-l", "app=root-web", "--wait=false"]);
    const first = await passUntil(`namespace=${ns}&workload=Deployment/root-web`, () => true, "the Deployment's denial");
    expect(first).toMatchObject({
      action: "deny",
      control: "privilegedContainers",
      namespace: ns,
      workload: { kind: "Deployment", name: "root-web" },
      object: { kind: "Pod" },
      username: "system:serviceaccount:kube-system:replicaset-controller",
    });
    expect(first.object.name).toMatch(/^root-web-[a-z0-9]+-[a-z0-9]{5}$/);
    expect(first.message).toContain("securityContext.privileged is true");
    // The ReplicaSet keeps retrying (with backoff): the same row's count grows.
    const grown = await passUntil(`namespace=${ns}&workload=Deployment/root-web`, (d) => d.count > first.count, "the count to grow");
    // (Asked per workload: the CronJob in this namespace fires every minute, and on a slow run its
    // refused Job is already a second row of the namespace — the next test's.)
    expect(await denials(`namespace=${ns}&workload=Deployment/root-web`)).toHaveLength(1);

    // A restarted agent sends every Event it finds again: the row must still count each refusal
    // exactly once — at least every refusal recorded before the pass, at most every one after it.
    const refusals = async () =>
      (await cluster.kubectlJson<{ items: Obj[] }>(["get", "events", "-n", "gatekeeper-system"])).items
        // Only the Deployment's Pods: the CronJob in this namespace has its Jobs refused every minute.
        .filter(
          (e) =>
            e.reason === "FailedAdmission" &&
            e.metadata.annotations?.resource_namespace === ns &&
            e.metadata.annotations?.resource_kind === "Pod" &&
            e.metadata.annotations?.resource_name?.startsWith("root-web-"),
        )
        .reduce((n, e) => n + (e.count ?? 1), 0);
    const recordedBefore = await refusals();
    expect(grown.count).toBeLessThanOrEqual(recordedBefore);
    // (Its loop: passes, requeued while Gatekeeper reports a template not compiled, as main.ts runs them.)
    const pass = await passUntilSettled(bed.deps, initialState());
    expect(pass.ok).toBe(true);
    const counted = (await denials(`namespace=${ns}&workload=Deployment/root-web`))[0]!.count;
    expect(counted).toBeGreaterThanOrEqual(recordedBefore);
    expect(counted).toBeLessThanOrEqual(await refusals());

    // However many refusals and passes: one admission.denied for the Deployment, signed, at a real receiver.
    const dispatcher = createDispatcher({ db: bed.api.db, config: bed.api.config.webhooks!, pollIntervalSeconds: 2 });
    while ((await dispatcher.runOnce()).claimed > 0);
    // (Only the Deployment's: the CronJob's refused Job, on a slow run, is already a row of its own
    // with its own admission.denied — CI saw two.)
    const denied = receiver.received.filter(
      (r) => r.body.type === "admission.denied" && (r.body.data.denial as { workload?: { name?: string } } | undefined)?.workload?.name === "root-web",
    );
    expect(denied).toHaveLength(1);
    expect(verifyWith(denied[0]!, hookSecret)).toBe(true);
    expect(denied[0]!.body.data).toMatchObject({
      environment: { id: bed.envId },
      denial: {
        action: "deny",
        control: "privilegedContainers",
        namespace: ns,
        workload: { kind: "Deployment", name: "root-web" },
        username: "system:serviceaccount:kube-system:replicaset-controller",
      },
    });
  });

  it("a kubectl user's refused Pod names that user; a warned Deployment is its own warn row", { timeout: T }, async () => {
    const r = await create(cluster, placed(pod({ containers: [container("app", { securityContext: { privileged: true } })] }), "debug-shell", ns));
    expect(r.code).not.toBe(0);
    const mine = await passUntil(`namespace=${ns}&workload=Pod/debug-shell`, () => true, "the user's denial");
    expect(mine).toMatchObject({
      action: "deny",
      username: "gatehouse-admin",
      workload: { kind: "Pod", name: "debug-shell" },
      object: { kind: "Pod", name: "debug-shell" },
      count: 1,
    });

    await cluster.applyYaml(JSON.stringify(deployment(ns, "host-pid", { hostPID: true, containers: [container("app", { image: IMAGE })] })));
    const warned = await passUntil(`namespace=${ns}&action=warn`, (d) => d.workload.name === "host-pid", "the warn row");
    expect(warned).toMatchObject({ control: "hostNamespaces", workload: { kind: "Deployment", name: "host-pid" } });
    const summary = await json(await bed.callRoute(routes.denials.envSummary, `/v1/environments/${bed.envId}/denials/summary?by=workload`));
    expect(summary.groups.map((g: { key: string }) => g.key)).toEqual(
      expect.arrayContaining([`${ns}/Deployment/root-web`, `${ns}/Pod/debug-shell`, `${ns}/Deployment/host-pid`]),
    );
  });
  it("a CronJob's refused Jobs are one row under the CronJob, naming its controller", { timeout: T }, async () => {
    // The schedule fires at the next minute; its Job (or that Job's Pod) is refused.
    const row = await waitUntil(
      "the CronJob's denial",
      async () => {
        const pass = await bed.pass();
        if (!pass.ok) throw new Error(`agent pass failed: ${pass.error}`);
        return (await denials(`namespace=${ns}&workload=CronJob/nightly`))[0];
      },
      { timeoutMs: 180_000, intervalMs: 2000 },
    );
    expect(row).toMatchObject({ action: "deny", control: "privilegedContainers", workload: { kind: "CronJob", name: "nightly" } });
    expect(row.username).toMatch(/^system:serviceaccount:kube-system:(cronjob|job)-controller$/);
    expect(row.object.name).toMatch(/^nightly-\d+/);
  });
});
