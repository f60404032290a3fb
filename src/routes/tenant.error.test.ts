// GET /v1/tenant when things go wrong that are not the caller's credentials.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";

describe.each(backends())("GET /v1/tenant errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token("acme", "admin");
  });
  afterAll(() => api?.close());

  it.each(["POST", "PUT", "PATCH", "DELETE"])("%s is not a route: 404 problem", async (method) => {
    await expectProblem(await api.request(method, "/v1/tenant", { token, body: {} }), 404);
  });

  it("paths are exact: /v1/tenant/ and /v1/tenants are 404", async () => {
    await expectProblem(await api.request("GET", "/v1/tenant/", { token }), 404);
    await expectProblem(await api.request("GET", "/v1/tenants", { token }), 404);
  });

  it("ignores a body and unknown query parameters on GET", async () => {
    const res = await api.request("GET", "/v1/tenant?foo=bar", { token });
    expect(res.status).toBe(200);
  });

  // Last: it closes the database. The caller gets a bare 500, health says 503.
  it("a database failure is a 500 problem that leaks nothing", async () => {
    await api.db.close();
    const body = await expectProblem(await api.request("GET", "/v1/tenant", { token }), 500);
    expect(body.detail).not.toMatch(/pglite|postgres|closed|sql/i);
    await expectProblem(await api.request("GET", "/healthz"), 503);
  });
});
