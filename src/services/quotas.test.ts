// Per-tenant quotas on both databases (environments, webhooks, API keys, agent credentials,
// drafts): each create route refuses the one past its limit with 409
// problem+json naming the variable, writes nothing (no row, no audit entry), counts only the live
// keys and credentials, holds under concurrent creates, and leaves other tenants alone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows } from "../../test/harness/fixtures.ts";
import { QUOTA_VARIABLES, type Quotas } from "./quotas.ts";
import * as routes from "../../test/harness/routes.ts";

const LIMITS: Quotas = { environments: 2, webhooks: 1, apiKeys: 2, agentCredentials: 2, drafts: 2 };

describe.each(backends())("quotas ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true }, configure: (c) => (c.quotas = LIMITS) });
  });
  afterAll(() => api?.close());

  const post = async (token: string, path: string, body?: unknown) => api.request("POST", path, { token, body });
  const refusedAt = async (res: Response, kind: keyof Quotas) => {
    const p = await expectProblem(res, 409);
    expect(p.detail).toContain(`limit of ${LIMITS[kind]}`);
    expect(p.detail).toContain(QUOTA_VARIABLES[kind]);
  };

  it("environments: the one past the limit is 409 and leaves no trace", async () => {
    const admin = await api.token("quota-envs", "admin");
    for (const name of ["a", "b"]) expect((await post(admin, "/v1/environments", { name })).status).toBe(201);
    const auditBefore = (await auditRows(api, "quota-envs")).length;
    await refusedAt(await post(admin, "/v1/environments", { name: "c" }), "environments");
    const list = await json(await api.call(routes.environments.listEnvs, "/v1/environments", { token: admin }));
    expect(list.items.map((e: { name: string }) => e.name).sort()).toEqual(["a", "b"]);
    expect((await auditRows(api, "quota-envs")).length).toBe(auditBefore);
    // Another tenant has its own allowance.
    expect((await post(await api.token("quota-other", "admin"), "/v1/environments", { name: "c" })).status).toBe(201);
    // Deleting one makes room.
    const a = list.items.find((e: { name: string }) => e.name === "a");
    expect((await api.request("DELETE", `/v1/environments/${a!.id}`, { token: admin })).status).toBe(204);
    expect((await post(admin, "/v1/environments", { name: "c" })).status).toBe(201);
  });

  it("API keys: revoked keys do not count", async () => {
    const admin = await api.token("quota-keys", "admin");
    const ids: string[] = [];
    for (const name of ["k1", "k2"]) {
      const res = await api.call(routes.apiKeys.create, "/v1/api-keys", { token: admin, body: { name, role: "viewer" } });
      expect(res.status).toBe(201);
      ids.push((await json(res)).id);
    }
    await refusedAt(await post(admin, "/v1/api-keys", { name: "k3", role: "viewer" }), "apiKeys");
    expect((await api.request("DELETE", `/v1/api-keys/${ids[0]}`, { token: admin })).status).toBe(204);
    expect((await post(admin, "/v1/api-keys", { name: "k3", role: "viewer" })).status).toBe(201);
  });

  it("agent credentials: counted across the tenant's environments", async () => {
    const admin = await api.token("quota-agents", "admin");
    const envs = [];
    for (const name of ["e1", "e2"])
      envs.push((await json(await api.call(routes.environments.createEnv, "/v1/environments", { token: admin, body: { name } }))).id);
    expect((await post(admin, `/v1/environments/${envs[0]}/agent-credentials`)).status).toBe(201);
    expect((await post(admin, `/v1/environments/${envs[1]}/agent-credentials`)).status).toBe(201);
    await refusedAt(await post(admin, `/v1/environments/${envs[1]}/agent-credentials`), "agentCredentials");
  });

  it("webhook endpoints", async () => {
    const admin = await api.token("quota-hooks", "admin");
    const body = { url: "http://127.0.0.1:9/hook", events: ["violation.opened"] };
    expect((await post(admin, "/v1/webhooks", body)).status).toBe(201);
    await refusedAt(await post(admin, "/v1/webhooks", body), "webhooks");
  });

  it("drafts: counted across the tenant's environments, open ones only", async () => {
    const admin = await api.token("quota-drafts", "admin");
    const envs = [];
    for (const name of ["d1", "d2"])
      envs.push((await json(await api.call(routes.environments.createEnv, "/v1/environments", { token: admin, body: { name } }))).id);
    const d = await api.call(routes.drafts.createDraftRoute, `/v1/environments/${envs[0]}/drafts`, { token: admin, body: { preset: "baseline" } });
    expect(d.status).toBe(201);
    expect((await post(admin, `/v1/environments/${envs[1]}/drafts`, { preset: "baseline" })).status).toBe(201);
    const auditBefore = (await auditRows(api, "quota-drafts")).length;
    await refusedAt(await post(admin, `/v1/environments/${envs[1]}/drafts`, { preset: "restricted" }), "drafts");
    expect((await auditRows(api, "quota-drafts")).length).toBe(auditBefore);
    // Deleting one makes room.
    expect((await api.request("DELETE", `/v1/environments/${envs[0]}/drafts/${(await json(d)).id}`, { token: admin })).status).toBe(204);
    expect((await post(admin, `/v1/environments/${envs[1]}/drafts`, { preset: "restricted" })).status).toBe(201);
  });

  it("holds when creates race: exactly the limit succeed", async () => {
    const admin = await api.token("quota-race", "admin");
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => post(admin, "/v1/api-keys", { name: `race-${i}`, role: "viewer" })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 201, 409, 409, 409, 409]);
    const keys = await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token: admin }));
    expect(keys.items).toHaveLength(2);
  });
});
