// Issue 13, items 16 and 15b, against real components (etcd + kube-apiserver, Gatekeeper's
// controller out of cluster, the API on PostgreSQL, the agent's own pass through the counting
// proxy with infra/'s RBAC):
//   16.  a field the API server defaults is not drift: one pass applies each object once (no
//        PUT), and the next makes 0 writes;
//   15b. Gatekeeper stopped → the environment is degraded (its audit goes stale) and
//        environment.degraded is queued; restarted → online and environment.recovered; a webhook
//        Service without a ready endpoint → degraded too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApiClient } from "../../agent/api-client.ts";
import { json } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";
import { startAgentTestbed, type AgentTestbed } from "../harness/agent-testbed.ts";
import { startCluster, type Cluster } from "../harness/cluster.ts";
import { sleep } from "../harness/cluster-process.ts";

const T = 240_000;
const AUDIT_INTERVAL = 3;
// The agent's idea of Gatekeeper's audit interval: stale after 3 × 5 s, a margin over the real 3 s
// so a slow audit run on a busy machine is not taken for a stopped Gatekeeper.
const AGENT_AUDIT_INTERVAL = 5;

let cluster: Cluster;
let bed: AgentTestbed;

/** The desired state with ConstraintTemplate validation.legacySchema left out: the API server defaults it (false). */
function withoutLegacySchema(api: ApiClient): ApiClient {
  return {
    ...api,
    async fetchDesired(etag) {
      const fetched = await api.fetchDesired(etag);
      if (!fetched.changed) return fetched;
      const objects = fetched.desired.objects.map((o) => {
        const copy = structuredClone(o) as typeof o & { spec?: { crd?: { spec?: { validation?: Record<string, unknown> } } } };
        delete copy.spec?.crd?.spec?.validation?.legacySchema;
        return copy;
      });
      return { ...fetched, desired: { ...fetched.desired, objects } };
    },
  };
}

const agentView = async () => json(await bed.callRoute(routes.environmentAgent.route, `/v1/environments/${bed.envId}/agent`));

/** Passes until the agent view satisfies `ok` (or the time is up); returns the last view. */
async function passUntil(ok: (view: any) => boolean, seconds = 90) {
  let view: any;
  for (const end = Date.now() + seconds * 1000; Date.now() < end; await sleep(1000)) {
    await bed.pass();
    view = await agentView();
    if (ok(view)) return view;
  }
  return view;
}

beforeAll(async () => {
  cluster = await startCluster({ auditIntervalSeconds: AUDIT_INTERVAL });
  bed = await startAgentTestbed(cluster, {
    tenant: "cluster-health",
    settings: { enforcementAction: "deny", controls: { privilegedContainers: {}, sysctls: {} } },
  });
  bed.deps.api = withoutLegacySchema(bed.deps.api);
  bed.deps.gatekeeperAuditIntervalSeconds = AGENT_AUDIT_INTERVAL;
}, 900_000);

afterAll(async () => {
  await bed?.close();
  await cluster?.stop();
});

describe("agent health against a real kube-apiserver with Gatekeeper", () => {
  it("16. a field the API server defaults: one pass writes each object once, no replace; the next pass makes 0 writes", { timeout: T }, async () => {
    bed.proxy.reset();
    const first = await bed.pass();
    expect(first.error).toBeNull();
    const applied = first.results.filter((r) => r.result === "applied");
    expect(applied.length).toBeGreaterThan(0);
    expect(first.results.every((r) => r.result === "applied")).toBe(true);
    const counts = bed.proxy.counts();
    // One server-side apply per object; no PUT (the replace that never matched), no other write.
    expect(counts.byMethod.PUT ?? 0).toBe(0);
    expect(counts.byMethod.PATCH).toBe(applied.length);
    expect(first.writes).toBe(applied.length);
    // The server did default it: the live template has the field our desired state left out.
    const template = await cluster.kubectlJson(["get", "constrainttemplates.templates.gatekeeper.sh", "gatehouseprivilegedcontainers"]);
    expect(template.spec.crd.spec.validation.legacySchema).toBe(false);

    bed.proxy.reset();
    const second = await bed.pass();
    expect(second).toMatchObject({ ok: true, writes: 0 });
    expect(second.results.every((r) => r.result === "unchanged")).toBe(true);
    expect(bed.proxy.counts().writes).toBe(0);
  });

  it("15b. Gatekeeper stopped: degraded (audit stale) and environment.degraded; restarted: online and environment.recovered", { timeout: T }, async () => {
    const hook = await json(
      await bed.callRoute(routes.webhooks.create, "/v1/webhooks", {
        url: "https://93.184.215.14/hooks",
        events: ["environment.degraded", "environment.recovered"],
      }),
    );
    const events = async () =>
      (
        (await json(await bed.callRoute(routes.webhooks.deliveries, `/v1/webhooks/${hook.id}/deliveries?limit=100`))).items as {
          eventType: string;
          payload: any;
        }[]
      )
        .map((d) => d.eventType)
        .reverse();

    // Healthy first: Gatekeeper has audited the constraints, recently.
    const healthy = await passUntil((v) => v.state === "online" && v.gatekeeper?.audit?.lastAuditAt);
    expect(healthy).toMatchObject({
      state: "online",
      inSync: true,
      degradedReasons: [],
      gatekeeper: { installed: true, audit: { fresh: true, staleAfterSeconds: 3 * AGENT_AUDIT_INTERVAL }, webhook: null },
    });

    await cluster.stopGatekeeper();
    const degraded = await passUntil((v) => v.state === "degraded");
    expect(degraded).toMatchObject({ state: "degraded", inSync: true, error: null, gatekeeper: { audit: { fresh: false } } });
    expect(degraded.degradedReasons).toEqual([
      expect.stringMatching(/^Gatekeeper's audit is stale: the newest constraint audit is from .+, more than 15 s ago$/),
    ]);
    const env = json(await bed.callRoute(routes.environments.getEnv, `/v1/environments/${bed.envId}`));
    expect((await env).agent).toMatchObject({ state: "degraded", degradedReasons: degraded.degradedReasons });

    await cluster.startGatekeeper();
    const recovered = await passUntil((v) => v.state === "online");
    expect(recovered).toMatchObject({ state: "online", degradedReasons: [], gatekeeper: { audit: { fresh: true } } });
    expect(await events()).toEqual(["environment.degraded", "environment.recovered"]);
  });

  it("15b. a webhook Service whose EndpointSlice has no ready endpoint is degraded; ready again, online (read with the agent's own RBAC)", {
    timeout: T,
  }, async () => {
    const slice = (ready: boolean) => `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: gatekeeper-webhook-service-abcde
  namespace: gatekeeper-system
  labels: { kubernetes.io/service-name: gatekeeper-webhook-service }
addressType: IPv4
ports: [{ name: https-webhook-server, port: 8443, protocol: TCP }]
endpoints: [{ addresses: ["10.0.0.10"], conditions: { ready: ${ready} } }]
`;
    await cluster.applyYaml(slice(false));
    const down = await passUntil((v) => v.state === "degraded");
    expect(down).toMatchObject({ gatekeeper: { webhook: { service: "gatekeeper-webhook-service", readyEndpoints: 0, ready: false } } });
    expect(down.degradedReasons).toContain(
      "Gatekeeper's admission webhook has no ready endpoint (Service gatekeeper-webhook-service): admission requests are not checked",
    );

    await cluster.applyYaml(slice(true));
    const up = await passUntil((v) => v.state === "online");
    expect(up).toMatchObject({ degradedReasons: [], gatekeeper: { webhook: { readyEndpoints: 1, ready: true } } });
  });
});
