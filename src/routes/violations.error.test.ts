// /v1/violations* refusals: every bad query parameter is a 400 naming it; unknown ids are 404.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { encodeCursor } from "../lib/cursor.ts";

const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("/v1/violations errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token("ve-errors", "viewer");
  });
  afterAll(() => api?.close());

  it.each([
    ["/v1/violations?environment=prod", "environment"],
    ["/v1/violations?state=closed", "state"],
    ["/v1/violations?since=yesterday", "since"],
    ["/v1/violations?limit=0", "limit"],
    ["/v1/violations?limit=101", "limit"],
    ["/v1/violations?control=", "control"],
    ["/v1/violations?cursor=not-a-cursor", "cursor"],
    [`/v1/violations?cursor=${encodeCursor({ id: MISSING })}`, "cursor"],
    ["/v1/violations?sort=asc", "(root)"],
    ["/v1/violations/trend?days=0", "days"],
    ["/v1/violations/trend?days=366", "days"],
    ["/v1/violations/trend?days=two", "days"],
    ["/v1/violations/trend?environment=x", "environment"],
    ["/v1/violations/summary?environment=x", "(root)"],
    ["/v1/violations/not-a-uuid", "id"],
    ["/v1/environments/not-a-uuid/violations/summary", "id"],
  ])("GET %s → 400 at %s", async (path, field) => {
    const problem = await expectProblem(await api.request("GET", path, { token }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(field);
  });

  it("unknown violation and environment → 404", async () => {
    await expectProblem(await api.request("GET", `/v1/violations/${MISSING}`, { token }), 404);
    await expectProblem(await api.request("GET", `/v1/environments/${MISSING}/violations/summary`, { token }), 404);
  });
});
