// GET /v1/environments/{id}/agent refusals: malformed and unknown environment ids.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";

const T = "eage-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("GET /v1/environments/{id}/agent errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token(T, "viewer");
  });
  afterAll(() => api?.close());

  it.each(["nope", "12345", `${MISSING}x`, "%20"])("a malformed id (%s) → 400 at id", async (id) => {
    const problem = await expectProblem(await api.request("GET", `/v1/environments/${id}/agent`, { token }), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(["id"]);
  });

  it("an unknown id → 404; a deleted environment → 404", async () => {
    expect((await expectProblem(await api.request("GET", `/v1/environments/${MISSING}/agent`, { token }), 404)).detail).toContain(MISSING);
    const env = await createEnvironment(api, T, { name: "gone" });
    expect((await api.request("DELETE", `/v1/environments/${env.id}`, { token: await api.token(T, "admin") })).status).toBe(204);
    await expectProblem(await api.request("GET", `/v1/environments/${env.id}/agent`, { token }), 404);
  });

  it("it is read-only: other methods → 404", async () => {
    const env = await createEnvironment(api, T, { name: "ro" });
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      await expectProblem(await api.request(method, `/v1/environments/${env.id}/agent`, { token: await api.token(T, "admin"), body: {} }), 404);
    }
  });
});
