// The agent's world for the cluster suites and bench/agent: the API on real PostgreSQL (through the
// Neon driver) behind a real HTTP listener, an environment and an agent credential created
// through that API, the agent's RBAC from infra/ (the same objects `kubectl apply` installs) bound
// to a real ServiceAccount token, and the agent's reconcile pass wired to all of it — with a
// counting proxy between the agent and the kube-apiserver.
import { serve, type ServerType } from "@hono/node-server";
import { pino } from "pino";
import { createApiClient } from "../../agent/api-client.ts";
import { createKube, type Kube } from "../../agent/kube.ts";
import { connectionFromEnvironment } from "../../agent/kube-client.ts";
import { createMetrics, type AgentMetrics } from "../../agent/metrics.ts";
import { initialState, reconcileOnce, type AgentState, type PassResult, type ReconcileDeps } from "../../agent/reconcile.ts";
import { AGENT_NAME, AGENT_NAMESPACE, agentManifestObjects } from "../../src/install/agent-manifest.ts";
import type { EnvironmentSettingsInput } from "../../src/policies/index.ts";
import { toYaml } from "../../src/policies/yaml.ts";
import type { RouteConfig } from "@hono/zod-openapi";
import { createTestApi, json, type PathOf, type ResponseBodyOf, type TestApi, type TestApiOptions, type TypedResponse } from "./api.ts";
import * as routes from "./routes.ts";
import { backend } from "./backends.ts";
import type { Cluster } from "./cluster.ts";
import { startCountingProxy, type CountingProxy } from "./counting-proxy.ts";

export interface AgentTestbed {
  api: TestApi;
  apiUrl: string;
  tenant: string;
  envId: string;
  /** The agent credential (gha_...) as the API issued it. */
  agentToken: string;
  /** An admin user token for the user API. */
  adminToken: string;
  /** The agent's ServiceAccount token (bound by infra/'s ClusterRole, not system:masters). */
  serviceAccountToken: string;
  /** kubeconfig for the agent, through the counting proxy. */
  agentKubeconfig: string;
  proxy: CountingProxy;
  kube: Kube;
  metrics: AgentMetrics;
  state: AgentState;
  deps: ReconcileDeps;
  /**
   * One reconcile pass as the agent's loop runs it — including the passes it requeues while
   * Gatekeeper compiles a template: their results merged (an object applied in any of them is
   * "applied"), their writes added up.
   */
  pass(): Promise<PassResult>;
  /** User API call over HTTP with the admin token. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  /** `call` with `route`'s method on `path` (checked against the route's pattern, as api.call does), its JSON body typed by the route. */
  callRoute<R extends RouteConfig>(
    route: R,
    path: PathOf<R["path"]> | `${PathOf<R["path"]>}?${string}`,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<TypedResponse<ResponseBodyOf<R>>>;
  stopApi(): Promise<void>;
  startApi(): Promise<void>;
  close(): Promise<void>;
}

export async function startAgentTestbed(
  cluster: Cluster,
  opts: { tenant: string; settings: EnvironmentSettingsInput; templateTimeoutMs?: number; webhooks?: TestApiOptions["webhooks"] },
): Promise<AgentTestbed> {
  const api = await createTestApi(backend("postgres"), { agent: { pollIntervalSeconds: 2 }, webhooks: opts.webhooks });
  let server: ServerType | undefined;
  let port = 0;
  const startApi = () =>
    new Promise<void>((resolve) => {
      server = serve({ fetch: api.app.fetch, port, hostname: "127.0.0.1" }, (info) => {
        port = info.port;
        resolve();
      });
    });
  const stopApi = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      const s = server as ServerType & { closeAllConnections?: () => void };
      s.close(() => resolve());
      s.closeAllConnections?.();
      server = undefined;
    });
  await startApi();
  const apiUrl = `http://127.0.0.1:${port}`;
  const adminToken = await api.token(opts.tenant, "admin");
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(apiUrl + path, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const callRoute: AgentTestbed["callRoute"] = (route, path, body, headers) => {
    const pattern = new RegExp(`^${route.path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
    if (!pattern.test(path.split("?")[0]!)) throw new Error(`${path} is not a path of ${route.method.toUpperCase()} ${route.path}`);
    return call(route.method.toUpperCase(), path, body, headers);
  };

  // Everything through the user API, as a platform engineer would do it.
  const created = await callRoute(routes.environments.createEnv, "/v1/environments", { name: `cluster-${Date.now()}`, settings: opts.settings });
  if (created.status !== 201) throw new Error(`creating the environment: ${created.status} ${await created.text()}`);
  const envId = (await json(created)).id;
  const cred = await callRoute(routes.agentCredentials.create, `/v1/environments/${envId}/agent-credentials`);
  if (cred.status !== 201) throw new Error(`creating the agent credential: ${cred.status} ${await cred.text()}`);
  const agentToken = (await json(cred)).secret;

  // The agent's RBAC from infra/ (everything but the Deployment: no kubelet runs pods here).
  const install = agentManifestObjects({ apiUrl }).filter((o) => o.kind !== "Deployment");
  await cluster.applyYaml(toYaml(install));
  const serviceAccountToken = await cluster.createToken(AGENT_NAME, AGENT_NAMESPACE);
  const proxy = await startCountingProxy(cluster.server, cluster.caData);
  const agentKubeconfig = cluster.kubeconfig(serviceAccountToken, proxy.url);
  const kube = createKube(await connectionFromEnvironment({ KUBECONFIG: agentKubeconfig }));
  const metrics = createMetrics();
  const state = initialState();
  const deps: ReconcileDeps = {
    api: createApiClient(apiUrl, () => agentToken, "gatehouse-agent/test"),
    kube,
    log: pino({ level: "silent" }),
    metrics,
    agentVersion: "0.1.0-test",
    templateTimeoutMs: opts.templateTimeoutMs ?? 60_000,
    auditResendMs: 600_000,
    gatekeeperNamespace: "gatekeeper-system",
  };

  return {
    api,
    apiUrl,
    tenant: opts.tenant,
    envId,
    agentToken,
    adminToken,
    serviceAccountToken,
    agentKubeconfig,
    proxy,
    kube,
    metrics,
    state,
    deps,
    pass: () => passUntilSettled(deps, state),
    call,
    callRoute,
    stopApi,
    startApi,
    async close() {
      await stopApi();
      kube.stop?.();
      await proxy.close();
      await api.close();
    },
  };
}

/** reconcileOnce, then again after each requeue (what main.ts's loop does), results merged. */
export async function passUntilSettled(deps: ReconcileDeps, state: AgentState): Promise<PassResult> {
  const merged = new Map<string, PassResult["results"][number]>();
  let writes = 0;
  for (let i = 0; ; i++) {
    const pass = await reconcileOnce(deps, state);
    writes += pass.writes;
    for (const r of pass.results) {
      const k = `${r.apiVersion}|${r.kind}|${r.name}`;
      if (!(merged.get(k)?.result === "applied" && r.result === "unchanged")) merged.set(k, r);
    }
    if (pass.requeueAfterMs === null || i >= 600) return { ...pass, writes, results: [...merged.values()] };
    await new Promise((r) => setTimeout(r, pass.requeueAfterMs!));
  }
}
