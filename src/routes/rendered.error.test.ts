// GET /rendered when the request is wrong or the environment cannot be rendered.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { environments } from "../db/schema.ts";

const paths = (b: { errors?: { path: string }[] }) => (b.errors ?? []).map((e) => e.path).sort();

describe.each(backends())("GET /v1/environments/{id}/rendered errors ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  let token: string;
  const T = "acme-render-err";
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, T, { name: "prod" })).id;
    token = await api.token(T, "viewer");
  });
  afterAll(() => api?.close());

  it.each(["xml", "YAML", "", "json,yaml"])("?format=%s is a 400 at path format", async (format) => {
    const body = await expectProblem(await api.request("GET", `/v1/environments/${envId}/rendered?format=${format}`, { token }), 400);
    expect(paths(body)).toEqual(["format"]);
  });

  it("an unknown query parameter is a 400 naming it (a typo must not silently give JSON)", async () => {
    const body = await expectProblem(await api.request("GET", `/v1/environments/${envId}/rendered?fromat=yaml`, { token }), 400);
    expect(body.errors?.[0]?.message).toMatch(/fromat/);
  });

  it("an Accept header naming neither format is not an error: JSON", async () => {
    const res = await api.request("GET", `/v1/environments/${envId}/rendered`, { token, headers: { accept: "image/png" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
  });

  it.each(["not-a-uuid", "7d2b9c4e1f3a4b6c9d8e0a1b2c3d4e5f", "7d2b9c4e-1f3a-4b6c-9d8e-0a1b2c3d4e5fx"])("malformed id %s is a 400 at path id", async (id) => {
    expect(paths(await expectProblem(await api.request("GET", `/v1/environments/${id}/rendered`, { token }), 400))).toEqual(["id"]);
  });

  it("an unknown environment is a 404, in either format", async () => {
    for (const qs of ["", "?format=yaml"]) {
      const body = await expectProblem(await api.request("GET", `/v1/environments/4f3e2d1c-0b9a-4876-a543-210fedcba987/rendered${qs}`, { token }), 404);
      expect(body.detail).toBe("No environment 4f3e2d1c-0b9a-4876-a543-210fedcba987.");
    }
  });

  it("an environment without any revision is a 404 that says so (not a 500)", async () => {
    const tenantId = await api.tenantId(T);
    const [bare] = await api.db.withTenant(tenantId, (tx) => tx.insert(environments).values({ tenantId, name: "bare" }).returning({ id: environments.id }));
    const body = await expectProblem(await api.request("GET", `/v1/environments/${bare!.id}/rendered`, { token }), 404);
    expect(body.detail).toMatch(/no settings yet/);
  });

  it("only GET: other methods are 404", async () => {
    for (const method of ["POST", "PUT", "DELETE"]) {
      await expectProblem(await api.request(method, `/v1/environments/${envId}/rendered`, { token: await api.token(T, "admin"), body: {} }), 404);
    }
  });
});
