// GET /v1/environments/{id}/agent-manifest: the install manifest for an environment, kubectl-ready,
// pointed at PUBLIC_URL (else the request's origin), and never with the token Secret.
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { createApp } from "../app/app.ts";
import { AGENT_NAME, AGENT_NAMESPACE, agentManifest } from "../install/agent-manifest.ts";

const KINDS = ["Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment"];

type Doc = {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { template: { spec: { containers: { env: { name: string; value: string }[] }[] } } };
};
const docs = (yaml: string) => parseAllDocuments(yaml).map((d) => d.toJS() as Doc);
const apiUrlOf = (yaml: string) => {
  const deployment = docs(yaml).find((d) => d.kind === "Deployment")!;
  return deployment.spec!.template.spec.containers[0]!.env.find((e) => e.name === "GATEHOUSE_API_URL")?.value;
};

describe.each(backends())("GET /v1/environments/{id}/agent-manifest ($name)", (backend) => {
  let api: TestApi;
  /** The same database behind an app configured with PUBLIC_URL. */
  let configured: ReturnType<typeof createApp>;
  beforeAll(async () => {
    api = await createTestApi(backend);
    configured = createApp({ db: api.db, config: { ...api.config, publicUrl: "https://gatehouse.example.com/api" } });
  });
  afterAll(() => api?.close());

  const url = (id: string) => `/v1/environments/${id}/agent-manifest`;

  it("200 YAML: the install objects in apply order, for this environment, with no Secret and no token", async () => {
    const env = await createEnvironment(api, "am-happy", { name: "prod-eu" });
    const res = await api.request("GET", url(env.id), { token: await api.token("am-happy", "admin") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
    const text = await res.text();
    const objects = docs(text);
    expect(objects.map((d) => d.kind)).toEqual(KINDS);
    expect(objects.find((d) => d.kind === "Deployment")?.metadata).toMatchObject({ name: AGENT_NAME, namespace: AGENT_NAMESPACE });
    expect(objects.some((d) => d.kind === "Secret")).toBe(false);
    // No token anywhere: the objects have none, and the only gha_ is the header's placeholder.
    expect(JSON.stringify(objects)).not.toContain("gha_");
    expect(text.match(/gha_\S*/g)).toEqual(["gha_..."]);
    expect(text).not.toMatch(/stringData|kind: Secret/);
    // The header names the environment and says how to make the Secret by hand.
    expect(text.split("\n")[0]).toBe('# Gatehouse agent for environment "prod-eu". Requires Gatekeeper in the cluster.');
    expect(text).toContain(`# The token Secret is not included: kubectl -n ${AGENT_NAMESPACE} create secret generic`);
    // Exactly what the generator makes (the same as infra/agent.yaml but for the URL and name).
    expect(text).toBe(agentManifest({ apiUrl: "http://localhost", environmentName: "prod-eu" }));
  });

  it("GATEHOUSE_API_URL is the request's origin when PUBLIC_URL is unset", async () => {
    const env = await createEnvironment(api, "am-origin", { name: "prod" });
    const token = await api.token("am-origin", "admin");
    expect(apiUrlOf(await (await api.request("GET", url(env.id), { token })).text())).toBe("http://localhost");
    const res = await api.app.request(`https://gatehouse.internal:8443${url(env.id)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(apiUrlOf(await res.text())).toBe("https://gatehouse.internal:8443");
  });

  it("GATEHOUSE_API_URL is PUBLIC_URL when configured, whatever the request's origin", async () => {
    const env = await createEnvironment(api, "am-public", { name: "prod" });
    const token = await api.token("am-public", "admin");
    for (const origin of ["", "http://10.0.0.7:8080"]) {
      const res = await configured.request(`${origin}${url(env.id)}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(apiUrlOf(text)).toBe("https://gatehouse.example.com/api");
      expect(text).not.toContain("10.0.0.7");
      expect(text).not.toContain("localhost");
    }
  });

  it("each environment's manifest names that environment; reading it writes nothing", async () => {
    const a = await createEnvironment(api, "am-two", { name: "env-a" });
    const b = await createEnvironment(api, "am-two", { name: "env-b" });
    const token = await api.token("am-two", "admin");
    const logBefore = await (await api.request("GET", "/v1/audit-log", { token })).text();
    const ya = await (await api.request("GET", url(a.id), { token })).text();
    const yb = await (await api.request("GET", url(b.id), { token })).text();
    expect(ya).toContain('environment "env-a"');
    expect(yb).toContain('environment "env-b"');
    expect(ya.replace("env-a", "X")).toBe(yb.replace("env-b", "X"));
    expect(await (await api.request("GET", "/v1/audit-log", { token })).text()).toBe(logBefore);
  });
});
