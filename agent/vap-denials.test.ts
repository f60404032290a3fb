// The agent's reading of API-server refusals without a cluster: which FailedCreate messages are a
// refusal by one of our generated ValidatingAdmissionPolicies (the messages below are the ones
// kube-controller-manager v1.36 recorded in test/cluster/cel-admission.cluster.test.ts, names
// aside), which are skipped (the webhook's, a foreign policy's, quota, malformed), the workload
// each is filed under, and that only the cluster-wide FailedCreate LIST is made.
import { describe, expect, it } from "vitest";
import { fakeKube } from "../test/harness/fake-kube.ts";
import type { AdmissionEvent } from "../src/protocol/admission.ts";
import type { KubeObject } from "../src/protocol/agent.ts";
import { unsent } from "./admission-events.ts";
import type { LiveObject } from "./kube.ts";
import { initialState, type ReconcileDeps } from "./reconcile.ts";
import { pushAdmissionEvents } from "./reports.ts";
import { constraintOfBinding, controllerResolver, FAILED_CREATE_SELECTOR, parseVapRefusal, readVapRefusals, templateKinds } from "./vap-denials.ts";

const POLICY = "gatekeeper-gatehouseprivilegedcontainers";
const BINDING = "gatekeeper-gatehouseprivilegedcontainers-privileged-containers";
const TEXT = (pod: string) =>
  `pod team-a/${pod}: container "app" (containers[0], image registry.example.com/team/app:1.4.2): securityContext.privileged is true; privileged containers are not allowed. To allow it, exempt namespace "team-a" or image "registry.example.com/team/app:1.4.2" in Gatehouse control privileged-containers.`;
const refused = (pod: string, policy = POLICY, binding = BINDING) =>
  `pods "${pod}" is forbidden: ValidatingAdmissionPolicy '${policy}' with binding '${binding}' denied request: ${TEXT(pod)}`;
const WEBHOOK = `Error creating: admission webhook "validation.gatekeeper.sh" denied the request: [privileged-containers] ${TEXT("web-6b566955b5-kv6cv")}`;

describe("parseVapRefusal", () => {
  it.each([
    ["a ReplicaSet's (and a Job's, a DaemonSet's)", `Error creating: ${refused("web-6b566955b5-kv6cv")}`, "web-6b566955b5-kv6cv"],
    ["a StatefulSet's", `create Pod db-0 in StatefulSet db failed error: ${refused("db-0")}`, "db-0"],
    ["an aggregated Event's", `(combined from similar events): Error creating: ${refused("web-6b566955b5-85tjd")}`, "web-6b566955b5-85tjd"],
  ])("reads %s message", (_what, message, pod) => {
    expect(parseVapRefusal(message)).toEqual({ resource: "pods", name: pod, policy: POLICY, binding: BINDING, message: TEXT(pod) });
  });

  it("keeps a message that itself quotes an API-server error whole", () => {
    const nested = `Error creating: pods "p-abcde" is forbidden: ValidatingAdmissionPolicy '${POLICY}' with binding '${BINDING}' denied request: a: b 'c' is forbidden: d`;
    expect(parseVapRefusal(nested)?.message).toBe("a: b 'c' is forbidden: d");
  });

  it.each([
    ["the webhook's refusal (recorded from Gatekeeper's own Events)", WEBHOOK],
    [
      "a quota refusal",
      'Error creating: pods "web-6b566955b5-kv6cv" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=10, limited: pods=10',
    ],
    ["a PodSecurity refusal", 'Error creating: pods "web-6b566955b5-kv6cv" is forbidden: violates PodSecurity "restricted:latest": privileged'],
    [
      "a message cut before the policy's text",
      `Error creating: pods "web-6b566955b5-kv6cv" is forbidden: ValidatingAdmissionPolicy '${POLICY}' with binding '${BINDING}'`,
    ],
    [
      "a policy name without its closing quote",
      `Error creating: pods "x" is forbidden: ValidatingAdmissionPolicy '${POLICY} with binding '${BINDING} denied request: no`,
    ],
    ["an empty message", ""],
  ])("is null for %s", (_what, message) => {
    expect(parseVapRefusal(message)).toBeNull();
  });
});

describe("constraintOfBinding", () => {
  const templates = new Map([["gatehouseprivilegedcontainers", "GatehousePrivilegedContainers"]]);
  it.each([
    [POLICY, BINDING, { kind: "GatehousePrivilegedContainers", name: "privileged-containers" }],
    // Someone else's policy, one Gatekeeper generated from a template that is not ours, a binding of another policy, no constraint name.
    ["my-own-policy", "my-own-policy-binding", null],
    ["gatekeeper-k8spsphostnamespace", "gatekeeper-k8spsphostnamespace-psp-host-namespace", null],
    [POLICY, "gatekeeper-gatehousehostnamespaces-host-namespaces", null],
    [POLICY, `${POLICY}-`, null],
    ["gatehouseprivilegedcontainers", "gatehouseprivilegedcontainers-privileged-containers", null],
  ])("%s / %s → %j", (policy, binding, want) => {
    expect(constraintOfBinding(templates, policy, binding)).toEqual(want);
  });

  it("takes only the desired templates Gatekeeper is to generate a policy from", () => {
    const template = (name: string, kind: string, generateVAP?: boolean) => ({
      apiVersion: "templates.gatekeeper.sh/v1",
      kind: "ConstraintTemplate",
      metadata: { name },
      spec: {
        crd: { spec: { names: { kind } } },
        targets: [
          {
            target: "admission.k8s.gatekeeper.sh",
            rego: "package x",
            ...(generateVAP === undefined ? {} : { code: [{ engine: "K8sNativeValidation", source: { generateVAP } }] }),
          },
        ],
      },
    });
    const kinds = templateKinds([
      template("gatehouseprivilegedcontainers", "GatehousePrivilegedContainers", true),
      template("gatehousehostnamespaces", "GatehouseHostNamespaces", false),
      template("gatehousevolumetypes", "GatehouseVolumeTypes"),
      { apiVersion: "constraints.gatekeeper.sh/v1beta1", kind: "GatehousePrivilegedContainers", metadata: { name: "privileged-containers" }, spec: {} },
    ]);
    expect([...kinds]).toEqual([["gatehouseprivilegedcontainers", "GatehousePrivilegedContainers"]]);
  });
});

describe("readVapRefusals", () => {
  const templates = new Map([["gatehouseprivilegedcontainers", "GatehousePrivilegedContainers"]]);
  let n = 0;
  const event = (kind: string, name: string, message: string, more: Record<string, unknown> = {}): LiveObject =>
    ({
      apiVersion: "v1",
      kind: "Event",
      metadata: { uid: `e-${++n}`, namespace: "team-a", creationTimestamp: "2030-01-01T00:00:00Z" },
      involvedObject: { apiVersion: "apps/v1", kind, namespace: "team-a", name },
      reason: "FailedCreate",
      count: 1,
      firstTimestamp: "2030-01-01T00:00:00Z",
      lastTimestamp: "2030-01-01T00:00:05Z",
      message,
      ...more,
    }) as unknown as LiveObject;

  it("files each refusal under its controller's owner, as the API server's deny with the policy's text; skips the rest", async () => {
    const { kube, reads } = fakeKube(
      {
        "ReplicaSet/team-a/web-6b566955b5": { kind: "Deployment", name: "web" },
        "Job/team-a/nightly-29000000": { kind: "CronJob", name: "nightly" },
        "Job/team-a/once": null,
      },
      [
        event("ReplicaSet", "web-6b566955b5", `Error creating: ${refused("web-6b566955b5-kv6cv")}`),
        event("ReplicaSet", "web-6b566955b5", `(combined from similar events): Error creating: ${refused("web-6b566955b5-85tjd")}`, {
          count: 4,
          lastTimestamp: "2030-01-01T00:00:30Z",
        }),
        event("StatefulSet", "db", `create Pod db-0 in StatefulSet db failed error: ${refused("db-0")}`, { count: 13 }),
        event("Job", "nightly-29000000", `Error creating: ${refused("nightly-29000000-q8w7e")}`),
        event("Job", "once", `Error creating: ${refused("once-5tltg")}`),
        // Skipped: the webhook's, someone else's policy, quota, not a Pod, no namespace, no uid, another reason.
        event("ReplicaSet", "web-6b566955b5", WEBHOOK),
        event("ReplicaSet", "web-6b566955b5", `Error creating: ${refused("web-6b566955b5-abcde", "my-policy", "my-policy-b")}`),
        event("ReplicaSet", "web-6b566955b5", 'Error creating: pods "web-6b566955b5-abcde" is forbidden: exceeded quota: compute'),
        event("Deployment", "web", `Failed to create: ${refused("web-6b566955b5").replace('pods "', 'replicasets.apps "')}`),
        event("ReplicaSet", "web-6b566955b5", `Error creating: ${refused("web-6b566955b5-abcde")}`, {
          involvedObject: { kind: "ReplicaSet", name: "web-6b566955b5" },
        }),
        event("ReplicaSet", "web-6b566955b5", `Error creating: ${refused("web-6b566955b5-abcde")}`, { metadata: {} }),
        event("ReplicaSet", "web-6b566955b5", `Error creating: ${refused("web-6b566955b5-abcde")}`, { reason: "SuccessfulCreate" }),
      ],
    );
    const out = await readVapRefusals(kube, templates, controllerResolver(kube));
    expect(out.map((e) => [e.owner, e.resource.name, e.count])).toEqual([
      [{ kind: "Deployment", name: "web" }, "web-6b566955b5-kv6cv", 1],
      [{ kind: "Deployment", name: "web" }, "web-6b566955b5-85tjd", 4],
      [{ kind: "StatefulSet", name: "db" }, "db-0", 13],
      [{ kind: "CronJob", name: "nightly" }, "nightly-29000000-q8w7e", 1],
      [{ kind: "Job", name: "once" }, "once-5tltg", 1],
    ]);
    expect(out[1]).toEqual({
      uid: expect.stringMatching(/^e-/),
      count: 4,
      firstSeenAt: "2030-01-01T00:00:00.000Z",
      lastSeenAt: "2030-01-01T00:00:30.000Z",
      action: "deny",
      source: "apiserver",
      constraintKind: "GatehousePrivilegedContainers",
      constraintName: "privileged-containers",
      resource: { group: "", version: "v1", kind: "Pod", namespace: "team-a", name: "web-6b566955b5-85tjd" },
      owner: { kind: "Deployment", name: "web" },
      username: "",
      message: TEXT("web-6b566955b5-85tjd"),
    });
    // One read per controller object (the StatefulSet is its own workload: none); the second
    // Event of the same ReplicaSet costs nothing.
    expect(reads).toEqual(["ReplicaSet/team-a/web-6b566955b5", "Job/team-a/nightly-29000000", "Job/team-a/once"]);
    // The protocol's batching and counts apply as to Gatekeeper's Events: sent once per count.
    expect(unsent(out, new Map(out.map((e) => [e.uid, e.count]))).flat()).toEqual([]);
  });

  it("asks the API server for FailedCreate Events in every namespace, and files an unreadable ReplicaSet under itself, read once", async () => {
    const gone = () => event("ReplicaSet", "gone-5f6d7c8b9a", `Error creating: ${refused("gone-5f6d7c8b9a-zzzzz")}`);
    const { kube, reads } = fakeKube({}, [gone(), gone(), gone()]);
    const asked: [string, string | undefined][] = [];
    const listEvents = kube.listEvents.bind(kube);
    kube.listEvents = (namespace, selector) => (asked.push([namespace, selector]), listEvents(namespace, selector));
    const out = await readVapRefusals(kube, templates, controllerResolver(kube));
    expect(asked).toEqual([["", FAILED_CREATE_SELECTOR]]);
    expect(out.map((e) => e.owner)).toEqual(Array(3).fill({ kind: "ReplicaSet", name: "gone-5f6d7c8b9a" }));
    // A deleted ReplicaSet's Events outlive it: one read for all of them, not one per Event.
    expect(reads).toEqual(["ReplicaSet/team-a/gone-5f6d7c8b9a"]);
  });

  it("cuts a message to the protocol's 8 KiB and replaces what JSON cannot carry", async () => {
    const long = `pods "p-abcde" is forbidden: ValidatingAdmissionPolicy '${POLICY}' with binding '${BINDING}' denied request: \0${"x".repeat(9000)}`;
    const { kube } = fakeKube({}, [event("StatefulSet", "p", long)]);
    const [e] = await readVapRefusals(kube, templates, controllerResolver(kube));
    expect(e!.message).toHaveLength(8192);
    expect(e!.message.startsWith("\uFFFDxxx")).toBe(true);
  });
});

describe("pushAdmissionEvents: both sources, one LIST each, each Event sent once per count", () => {
  const template = (generateVAP: boolean): KubeObject => ({
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: { name: "gatehouseprivilegedcontainers" },
    spec: {
      crd: { spec: { names: { kind: "GatehousePrivilegedContainers" } } },
      targets: [{ target: "admission.k8s.gatekeeper.sh", code: [{ engine: "K8sNativeValidation", source: { generateVAP } }] }],
    },
  });
  const failedCreate = {
    apiVersion: "v1",
    kind: "Event",
    metadata: { uid: "fc-1" },
    involvedObject: { kind: "StatefulSet", namespace: "team-a", name: "db" },
    reason: "FailedCreate",
    count: 3,
    lastTimestamp: "2030-01-01T00:00:00Z",
    message: `create Pod db-0 in StatefulSet db failed error: ${refused("db-0")}`,
  } as unknown as LiveObject;
  const gatekeeper = {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      uid: "gk-1",
      annotations: {
        process: "admission",
        constraint_name: "host-namespaces",
        constraint_kind: "GatehouseHostNamespaces",
        resource_kind: "Pod",
        resource_namespace: "",
      },
    },
    reason: "FailedAdmission",
    count: 1,
    message: "Message: hostPID",
  } as unknown as LiveObject;

  async function run(generateVAP: boolean) {
    const { kube } = fakeKube({}, [failedCreate, gatekeeper]);
    const asked: (string | undefined)[] = [];
    const listEvents = kube.listEvents.bind(kube);
    kube.listEvents = (namespace, selector) => (asked.push(selector ? `${namespace || "*"} ${selector}` : namespace), listEvents(namespace, selector));
    const posted: AdmissionEvent[][] = [];
    const deps = {
      kube,
      api: { postAdmissionEvents: async (batch: AdmissionEvent[]) => void posted.push(batch) },
      gatekeeperNamespace: "gatekeeper-system",
      log: { info: () => {} },
    } as unknown as ReconcileDeps;
    const state = initialState();
    state.desired = {
      environmentId: "",
      environmentName: "",
      revision: 1,
      objects: [template(generateVAP)],
      agent: { pollIntervalSeconds: 30, fieldManager: "x" },
    };
    await pushAdmissionEvents(deps, state);
    await pushAdmissionEvents(deps, state);
    return { asked, posted };
  }

  it("a control at the API server: Gatekeeper's namespace and every namespace's FailedCreate are listed; both kinds sent, once", async () => {
    const { asked, posted } = await run(true);
    expect(asked).toEqual(["gatekeeper-system", `* ${FAILED_CREATE_SELECTOR}`, "gatekeeper-system", `* ${FAILED_CREATE_SELECTOR}`]);
    expect(posted.map((b) => b.map((e) => [e.uid, e.source, e.count]))).toEqual([
      [
        ["gk-1", "webhook", 1],
        ["fc-1", "apiserver", 3],
      ],
    ]);
  });

  it("every control with the webhook: no cluster-wide LIST at all", async () => {
    const { asked, posted } = await run(false);
    expect(asked).toEqual(["gatekeeper-system", "gatekeeper-system"]);
    expect(posted.flat().map((e) => e.uid)).toEqual(["gk-1"]);
  });
});
