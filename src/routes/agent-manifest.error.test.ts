// GET /v1/environments/{id}/agent-manifest when the request is wrong: malformed or unknown ids,
// unknown query parameters, other methods.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";

const T = "am-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";
const paths = (b: { errors?: { path: string }[] }) => (b.errors ?? []).map((e) => e.path).sort();

describe.each(backends())("GET /v1/environments/{id}/agent-manifest errors ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  let token: string;
  const url = (id: string, qs = "") => `/v1/environments/${id}/agent-manifest${qs}`;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, T, { name: "prod" })).id;
    token = await api.token(T, "admin");
  });
  afterAll(() => api?.close());

  it.each(["nope", "12345", "7d2b9c4e1f3a4b6c9d8e0a1b2c3d4e5f", "7d2b9c4e-1f3a-4b6c-9d8e-0a1b2c3d4e5fx"])("malformed id %s → 400 at path id", async (id) => {
    expect(paths(await expectProblem(await api.request("GET", url(id), { token }), 400))).toEqual(["id"]);
  });

  it("an unknown environment → 404 naming it", async () => {
    const body = await expectProblem(await api.request("GET", url(MISSING), { token }), 404);
    expect(body.detail).toBe(`No environment ${MISSING}.`);
  });

  it.each(["token=gha_x", "format=json", "environment=prod"])("an unknown query parameter (?%s) → 400 naming it, no manifest", async (qs) => {
    const res = await api.request("GET", url(envId, `?${qs}`), { token });
    const body = await expectProblem(res, 400);
    expect(paths(body)).toEqual(["(root)"]);
    expect(body.errors?.[0]?.message).toContain(qs.split("=")[0]!);
  });

  it("only GET: other methods → 404", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      await expectProblem(await api.request(method, url(envId), { token, body: {} }), 404);
    }
  });
});
