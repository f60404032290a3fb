// GET /v1/environments/{id}/audit-report refusals: malformed and unknown ids, no report yet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";

const T = "eare-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("GET /v1/environments/{id}/audit-report errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token(T, "viewer");
  });
  afterAll(() => api?.close());

  it.each(["nope", "12345", `${MISSING}x`])("a malformed id (%s) → 400 at id", async (id) => {
    const problem = await expectProblem(await api.request("GET", `/v1/environments/${id}/audit-report`, { token }), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(["id"]);
  });

  it("an unknown id → 404 naming it; a known one without a report → 404 saying so", async () => {
    expect((await expectProblem(await api.request("GET", `/v1/environments/${MISSING}/audit-report`, { token }), 404)).detail).toBe(
      `No environment ${MISSING}.`,
    );
    const env = await createEnvironment(api, T, { name: "quiet" });
    expect((await expectProblem(await api.request("GET", `/v1/environments/${env.id}/audit-report`, { token }), 404)).detail).toMatch(
      /not sent an audit report yet/,
    );
  });

  it("users cannot write a report: other methods → 404", async () => {
    const env = await createEnvironment(api, T, { name: "ro" });
    for (const method of ["POST", "PUT", "DELETE"]) {
      await expectProblem(
        await api.request(method, `/v1/environments/${env.id}/audit-report`, {
          token: await api.token(T, "admin"),
          body: { collectedAt: new Date().toISOString(), constraints: [] },
        }),
        404,
      );
    }
    await expectProblem(await api.request("GET", `/v1/environments/${env.id}/audit-report`, { token }), 404);
  });
});
