// /v1/api-keys refusals: every validation rule with its path, and no partial write after any.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

const TENANT = "ak-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("/v1/api-keys errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  let tenantId: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token(TENANT, "admin");
    tenantId = await api.tenantId(TENANT);
    // Sign in once first: a first request audits the new member, which is not the route's write.
    expect((await api.request("GET", "/v1/tenant", { token })).status).toBe(200);
  });
  afterAll(() => api?.close());

  /** Rows in api_keys and audit_log: a refused request must change neither. */
  const counts = () =>
    api.db.withTenant(tenantId, async (tx) => {
      const { rows } = await tx.execute<{ keys: number; audit: number }>(
        sql`select (select count(*)::int from api_keys) as keys, (select count(*)::int from audit_log) as audit`,
      );
      return rows[0];
    });

  const longName = "x".repeat(101);
  it.each([
    ["missing name", { role: "viewer" }, "name"],
    ["empty name", { name: "", role: "viewer" }, "name"],
    ["blank name", { name: "   ", role: "viewer" }, "name"],
    ["name over 100 characters", { name: longName, role: "viewer" }, "name"],
    ["name with a control character", { name: "ci\nkey", role: "viewer" }, "name"],
    ["name not a string", { name: 7, role: "viewer" }, "name"],
    ["missing role", { name: "k" }, "role"],
    ["unknown role", { name: "k", role: "owner" }, "role"],
    ["unknown field", { name: "k", role: "viewer", secret: "mine" }, "(root)"],
    ["an array body", [], "(root)"],
  ])("POST with %s → 400 at %s, nothing written", async (_, body, path) => {
    const before = await counts();
    const res = await api.request("POST", "/v1/api-keys", { token, body });
    const problem = await expectProblem(res, 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
    if (path === "(root)" && !Array.isArray(body)) expect(JSON.stringify(problem.errors)).toContain("secret");
    expect(await counts()).toEqual(before);
  });

  it("accepts a name of exactly 100 characters", async () => {
    expect((await api.request("POST", "/v1/api-keys", { token, body: { name: "y".repeat(100), role: "viewer" } })).status).toBe(201);
  });

  it("POST with malformed JSON → 400, with no body → 400, with a non-JSON type → 415", async () => {
    const before = await counts();
    await expectProblem(await api.request("POST", "/v1/api-keys", { token, body: '{"name": "k",' }), 400);
    await expectProblem(await api.request("POST", "/v1/api-keys", { token }), 400);
    await expectProblem(
      await api.request("POST", "/v1/api-keys", { token, body: "name=k", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
    );
    expect(await counts()).toEqual(before);
  });

  it.each([
    ["DELETE", ""],
    ["POST", "/rotate"],
  ])("%s with a malformed id → 400 at id; with an unknown id → 404", async (method, suffix) => {
    const before = await counts();
    const bad = await expectProblem(await api.request(method, `/v1/api-keys/not-a-uuid${suffix}`, { token }), 400);
    expect(bad.errors?.map((e) => e.path)).toEqual(["id"]);
    await expectProblem(await api.request(method, `/v1/api-keys/${MISSING}${suffix}`, { token }), 404);
    expect(await counts()).toEqual(before);
  });

  it("rotating a revoked key → 409; it stays revoked and nothing is audited", async () => {
    const key = await json(await api.call(routes.apiKeys.create, "/v1/api-keys", { token, body: { name: "gone", role: "viewer" } }));
    expect((await api.request("DELETE", `/v1/api-keys/${key.id}`, { token })).status).toBe(204);
    const before = await counts();
    await expectProblem(await api.request("POST", `/v1/api-keys/${key.id}/rotate`, { token }), 409);
    expect(await counts()).toEqual(before);
    await expectProblem(await api.request("GET", "/v1/tenant", { token: key.secret }), 401);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["cursor=", "cursor"],
    ["cursor=!!!", "cursor"],
    [`cursor=${encodeCursor({ id: 42 })}`, "cursor"],
    [`cursor=${encodeCursor({ id: MISSING })}`, "cursor"],
    ["sort=name", "(root)"],
  ])("GET ?%s → 400 at %s", async (query, path) => {
    const problem = await expectProblem(await api.request("GET", `/v1/api-keys?${query}`, { token }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it.each(["PUT", "PATCH"])("%s is not a route: 404", async (method) => {
    await expectProblem(await api.request(method, "/v1/api-keys", { token, body: {} }), 404);
  });
});
