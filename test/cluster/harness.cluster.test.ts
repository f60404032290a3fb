// Proves the cluster harness against the real components (etcd, kube-apiserver, kubectl and the
// Gatekeeper controller with its admission webhook): no mocks. One cluster for the whole file.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { httpGet, sleep, waitUntil } from "../harness/cluster-process.ts";
import { startCountingProxy, type CountingProxy } from "../harness/counting-proxy.ts";

const TEMPLATE_NAME = "k8sharnessprivileged";
const CONSTRAINT_KIND = "K8sHarnessPrivileged";
const CONSTRAINT_NAME = "harness-deny-privileged";
const MESSAGE = (container: string) => `harness: privileged container <${container}> is not allowed`;

// Written for this test from the Gatekeeper docs: deny privileged containers and init containers.
const REGO = `package k8sharnessprivileged

import future.keywords.contains
import future.keywords.if

violation contains {"msg": msg} if {
  c := input_containers[_]
  c.securityContext.privileged == true
  msg := sprintf("harness: privileged container <%v> is not allowed", [c.name])
}

input_containers contains c if {
  c := input.review.object.spec.containers[_]
}

input_containers contains c if {
  c := input.review.object.spec.initContainers[_]
}
`;

const template = {
  apiVersion: "templates.gatekeeper.sh/v1",
  kind: "ConstraintTemplate",
  metadata: { name: TEMPLATE_NAME },
  spec: {
    crd: { spec: { names: { kind: CONSTRAINT_KIND } } },
    targets: [{ target: "admission.k8s.gatekeeper.sh", rego: REGO }],
  },
};

const constraint = {
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: CONSTRAINT_KIND,
  metadata: { name: CONSTRAINT_NAME },
  spec: { enforcementAction: "deny", match: { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] } },
};

function pod(name: string, namespace: string, privileged: boolean) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace },
    spec: {
      containers: [
        {
          name: "app",
          image: "registry.invalid/app:1",
          ...(privileged ? { securityContext: { privileged: true } } : {}),
        },
      ],
    },
  };
}

const json = (o: object) => JSON.stringify(o);
let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;

let cluster: Cluster;
let proxy: CountingProxy | undefined;
let plainProxy: CountingProxy | undefined;
const EARLY_NS = "harness-early";
const fileStart = Date.now();

async function createNamespace(name: string) {
  await cluster.applyYaml(json({ apiVersion: "v1", kind: "Namespace", metadata: { name } }));
}

async function createPod(name: string, namespace: string, privileged: boolean) {
  return cluster.kubectl(["create", "-f", "-"], { input: json(pod(name, namespace, privileged)) });
}

beforeAll(async () => {
  cluster = await startCluster({ webhook: true, users: [{ name: "harness-user", groups: ["harness-group"] }] });
  console.log(
    `cluster up: etcd ${cluster.timings.etcdMs} ms, apiserver ready ${cluster.timings.apiserverReadyMs} ms, ` +
      `CRDs ${cluster.timings.crdsMs} ms, Gatekeeper healthy ${cluster.timings.gatekeeperHealthyMs} ms, ` +
      `total ${cluster.timings.totalMs} ms; logs in ${cluster.dir}`,
  );
  // A privileged pod that exists before any constraint: only audit can find it.
  await createNamespace(EARLY_NS);
  const r = await createPod("early-privileged", EARLY_NS, true);
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  await proxy?.close();
  await plainProxy?.close();
  const t = Date.now();
  await cluster?.stop();
  console.log(`cluster stopped in ${Date.now() - t} ms; file took ${Date.now() - fileStart} ms`);
});

describe("cluster harness (real kube-apiserver + Gatekeeper)", () => {
  it("compiles a ConstraintTemplate, establishes its constraint CRD and enforces the constraint", { timeout: 180_000 }, async () => {
    await cluster.applyYaml(json(template));
    await waitUntil("template status.created", async () => (await cluster.kubectlJson(["get", "constrainttemplate", TEMPLATE_NAME])).status?.created === true, {
      timeoutMs: 60_000,
      intervalMs: 500,
    });
    await cluster.kubectlOk(["wait", "--for=condition=established", "--timeout=60s", `crd/${TEMPLATE_NAME}.constraints.gatekeeper.sh`]);
    await cluster.applyYaml(json(constraint));
    // Loaded into the webhook's engine once Gatekeeper reports it enforced.
    await waitUntil(
      "constraint status.byPod[].enforced",
      async () => {
        const c = await cluster.kubectlJson(["get", `${CONSTRAINT_KIND.toLowerCase()}.constraints.gatekeeper.sh`, CONSTRAINT_NAME]);
        const byPod = (c.status?.byPod ?? []) as { enforced?: boolean }[];
        return byPod.length > 0 && byPod.every((p) => p.enforced === true);
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  });

  it("refuses a privileged Pod at admission with the constraint's message and admits a plain one", { timeout: 120_000 }, async () => {
    const ns = unique("harness-deny");
    await createNamespace(ns);
    const denied = await createPod("privileged", ns, true);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('admission webhook "validation.gatekeeper.sh" denied the request');
    expect(denied.stderr).toContain(`[${CONSTRAINT_NAME}] ${MESSAGE("app")}`);
    const absent = await cluster.kubectl(["get", "pod", "privileged", "-n", ns]);
    expect(absent.code).not.toBe(0);

    const admitted = await createPod("plain", ns, false);
    expect(admitted.code, admitted.stderr).toBe(0);
  });

  it("reports a privileged Pod created before the constraint in status.violations (audit)", { timeout: 120_000 }, async () => {
    const violations = await waitUntil(
      "the early pod in status.violations",
      async () => {
        const c = await cluster.kubectlJson(["get", `${CONSTRAINT_KIND.toLowerCase()}.constraints.gatekeeper.sh`, CONSTRAINT_NAME]);
        const v = (c.status?.violations ?? []) as { name: string; namespace: string; kind: string; message: string; enforcementAction: string }[];
        return v.some((x) => x.name === "early-privileged") ? v : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(violations).toContainEqual(
      expect.objectContaining({
        kind: "Pod",
        name: "early-privileged",
        namespace: EARLY_NS,
        message: MESSAGE("app"),
        enforcementAction: "deny",
      }),
    );
  });

  it("issues TokenRequest tokens that RBAC authorises: 403 without a binding, 200 with one", { timeout: 120_000 }, async () => {
    const ns = unique("harness-rbac");
    const token = await cluster.createToken("nobody", ns);
    expect(token.split(".")).toHaveLength(3); // a JWT

    const url = `${cluster.server}/apis/templates.gatekeeper.sh/v1/constrainttemplates`;
    const forbidden = await httpGet(url, { ca: cluster.caPem, token });
    expect(forbidden.status).toBe(403);
    expect(forbidden.body).toContain(`system:serviceaccount:${ns}:nobody`);

    const kc = cluster.kubeconfig(token);
    const viaKubectl = await cluster.kubectl(["get", "constrainttemplates"], { kubeconfig: kc });
    expect(viaKubectl.code).not.toBe(0);
    expect(viaKubectl.stderr).toMatch(/forbidden/i);
    const whoami = await cluster.kubectlJson(["auth", "whoami"], { kubeconfig: kc });
    expect(whoami.status.userInfo.username).toBe(`system:serviceaccount:${ns}:nobody`);

    await cluster.applyYaml(
      [
        json({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRole",
          metadata: { name: `${ns}-read-templates` },
          rules: [{ apiGroups: ["templates.gatekeeper.sh"], resources: ["constrainttemplates"], verbs: ["get", "list"] }],
        }),
        json({
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "ClusterRoleBinding",
          metadata: { name: `${ns}-read-templates` },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ns}-read-templates` },
          subjects: [{ kind: "ServiceAccount", name: "nobody", namespace: ns }],
        }),
      ].join("\n---\n"),
    );
    await waitUntil("the binding to take effect", async () => (await httpGet(url, { ca: cluster.caPem, token })).status === 200, {
      timeoutMs: 30_000,
    });
  });

  it("authenticates static users from ClusterOptions.users, with their groups and no rights", { timeout: 60_000 }, async () => {
    const kc = cluster.kubeconfig(cluster.userTokens["harness-user"]!);
    const whoami = await cluster.kubectlJson(["auth", "whoami"], { kubeconfig: kc });
    expect(whoami.status.userInfo.username).toBe("harness-user");
    expect(whoami.status.userInfo.groups).toContain("harness-group");
    const r = await cluster.kubectl(["get", "pods", "-A"], { kubeconfig: kc });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/forbidden/i);
  });

  it("counts kubectl's reads and writes through the counting proxy (TLS)", { timeout: 120_000 }, async () => {
    proxy = await startCountingProxy(cluster.server, cluster.caData, { tls: cluster.servingTls });
    expect(proxy.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const kc = cluster.kubeconfig(cluster.adminToken, proxy.url);

    await cluster.kubectlOk(["get", "namespace", "default"], { kubeconfig: kc });
    let counts = proxy.counts();
    expect(counts.reads).toBeGreaterThanOrEqual(1);
    expect(counts.writes).toBe(0);
    expect(counts.requests).toContainEqual({ method: "GET", path: "/api/v1/namespaces/default" });

    const ns = unique("harness-proxy");
    await createNamespace(ns);
    proxy.reset();
    expect(proxy.counts()).toEqual({ reads: 0, writes: 0, byMethod: {}, requests: [] });
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "counted", namespace: ns }, data: { a: "1" } };
    await cluster.kubectlOk(["apply", "--server-side", "--field-manager=harness-test", "-f", "-"], { kubeconfig: kc, input: json(cm) });
    counts = proxy.counts();
    expect(counts.writes).toBeGreaterThanOrEqual(1);
    expect(counts.byMethod.PATCH).toBeGreaterThanOrEqual(1);
    expect(counts.requests).toContainEqual({
      method: "PATCH",
      path: expect.stringMatching(new RegExp(`^/api/v1/namespaces/${ns}/configmaps/counted\\?`)),
    });
  });

  it("proxies plain HTTP with the Authorization header passed through, for client-node and watches", { timeout: 120_000 }, async () => {
    plainProxy = await startCountingProxy(cluster.server, cluster.caData);
    expect(plainProxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const ns = unique("harness-plain");
    await createNamespace(ns);

    // @kubernetes/client-node (what the agent uses) through the plain-HTTP proxy.
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfig(cluster.adminToken, plainProxy.url));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const got = await core.readNamespace({ name: ns });
    expect(got.metadata?.name).toBe(ns);
    expect(plainProxy.counts()).toMatchObject({ reads: 1, writes: 0, byMethod: { GET: 1 } });

    // A watch through the proxy streams an event for an object created afterwards.
    const events: string[] = [];
    const http = await import("node:http");
    const watch = http.get(`${plainProxy.url}/api/v1/namespaces/${ns}/configmaps?watch=1`, {
      headers: { authorization: `Bearer ${cluster.adminToken}` },
    });
    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      watch.on("response", resolve);
      watch.on("error", reject);
    });
    expect(response.statusCode).toBe(200);
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => events.push(chunk));
    await sleep(200);
    const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "watched", namespace: ns }, data: { a: "1" } };
    await cluster.applyYaml(json(cm));
    await waitUntil("the ADDED event through the proxy", async () => /"type":"ADDED".*"name":"watched"/s.test(events.join("")), {
      timeoutMs: 15_000,
    });
    watch.destroy();
    expect(plainProxy.counts().requests).toContainEqual({ method: "GET", path: `/api/v1/namespaces/${ns}/configmaps?watch=1` });
    expect(plainProxy.counts().writes).toBe(0);

    // Without the header the API server sees an anonymous user: the proxy adds no credentials.
    const anonymous = await httpGet(`${plainProxy.url}/api/v1/namespaces/${ns}`);
    expect(anonymous.status).toBe(403);
  });

  it("stops and restarts Gatekeeper: admission fails open while it is down, denies again after", { timeout: 240_000 }, async () => {
    const ns = unique("harness-restart");
    await createNamespace(ns);
    await cluster.stopGatekeeper();
    expect(cluster.gatekeeperRunning()).toBe(false);
    await expect(httpGet(cluster.webhookUrl!.replace("/v1/admit", "/"), { ca: cluster.caPem })).rejects.toThrow();

    // failurePolicy Ignore: the webhook is unreachable, so the API server admits the pod.
    const whileDown = await createPod("while-down", ns, true);
    expect(whileDown.code, whileDown.stderr).toBe(0);

    await cluster.startGatekeeper();
    expect(cluster.gatekeeperRunning()).toBe(true);
    const denied = await waitUntil(
      "the webhook to deny again",
      async () => {
        const r = await createPod(unique("after"), ns, true);
        return r.code !== 0 ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect(denied.stderr).toContain(MESSAGE("app"));
  });
});
