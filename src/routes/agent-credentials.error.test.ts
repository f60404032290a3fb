// /v1/environments/{id}/agent-credentials refusals: paths, unknown ids, and no partial write.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type CreatedEnvironment } from "../../test/harness/fixtures.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

const TENANT = "ac-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("/v1/environments/{id}/agent-credentials errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  let env: CreatedEnvironment;
  let base: `/v1/environments/${string}/agent-credentials`;
  let credId: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token(TENANT, "admin");
    env = await createEnvironment(api, TENANT, { name: "prod" });
    base = `/v1/environments/${env.id}/agent-credentials`;
    credId = (await json(await api.call(routes.agentCredentials.create, base, { token }))).id;
  });
  afterAll(() => api?.close());

  /** Credential rows (with their hashes and revocations) and audit rows: refusals change none. */
  const state = () =>
    api.db.withTenant(env.tenantId, async (tx) => {
      const { rows } = await tx.execute<{ creds: string; audit: number }>(
        sql`select (select coalesce(json_agg(a order by a.id), '[]')::text from agent_credentials a) as creds, (select count(*)::int from audit_log) as audit`,
      );
      return rows[0];
    });

  it("POST with an unknown body field → 400 at the root naming it; a non-object body → 400; nothing written", async () => {
    const before = await state();
    const problem = await expectProblem(await api.request("POST", base, { token, body: { name: "agent" } }), 400);
    expect(problem.errors?.[0]).toMatchObject({ path: "(root)", message: expect.stringContaining("name") });
    await expectProblem(await api.request("POST", base, { token, body: [] }), 400);
    await expectProblem(await api.request("POST", base, { token, body: "{" }), 400);
    expect(await state()).toEqual(before);
  });

  it.each([
    ["GET", ""],
    ["POST", ""],
    ["DELETE", `/${MISSING}`],
    ["POST", `/${MISSING}/rotate`],
  ])("%s …%s with a malformed environment id → 400 at id; with an unknown one → 404", async (method, suffix) => {
    const before = await state();
    const bad = await expectProblem(await api.request(method, `/v1/environments/nope/agent-credentials${suffix}`, { token }), 400);
    expect(bad.errors?.map((e) => e.path)).toContain("id");
    await expectProblem(await api.request(method, `/v1/environments/${MISSING}/agent-credentials${suffix}`, { token }), 404);
    expect(await state()).toEqual(before);
  });

  it.each([
    ["DELETE", ""],
    ["POST", "/rotate"],
  ])("%s with a malformed credential id → 400 at credId; an unknown one → 404", async (method, suffix) => {
    const before = await state();
    const bad = await expectProblem(await api.request(method, `${base}/12345${suffix}`, { token }), 400);
    expect(bad.errors?.map((e) => e.path)).toEqual(["credId"]);
    await expectProblem(await api.request(method, `${base}/${MISSING}${suffix}`, { token }), 404);
    expect(await state()).toEqual(before);
  });

  it("a credential id under another environment of the same tenant → 404 for every verb", async () => {
    const other = await createEnvironment(api, TENANT, { name: "staging" });
    const otherBase = `/v1/environments/${other.id}/agent-credentials` as const;
    const before = await state();
    await expectProblem(await api.request("DELETE", `${otherBase}/${credId}`, { token }), 404);
    await expectProblem(await api.request("POST", `${otherBase}/${credId}/rotate`, { token }), 404);
    expect((await json(await api.call(routes.agentCredentials.list, otherBase, { token }))).items).toEqual([]);
    expect(await state()).toEqual(before);
  });

  it("rotating a revoked credential → 409, nothing changes", async () => {
    const { id } = await json(await api.call(routes.agentCredentials.create, base, { token }));
    expect((await api.request("DELETE", `${base}/${id}`, { token })).status).toBe(204);
    const before = await state();
    await expectProblem(await api.request("POST", `${base}/${id}/rotate`, { token }), 409);
    expect(await state()).toEqual(before);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["cursor=%%%", "cursor"],
    [`cursor=${encodeCursor({ id: MISSING })}`, "cursor"],
    [`cursor=${encodeCursor({ id: 1 })}`, "cursor"],
    ["environment=x", "(root)"],
  ])("GET ?%s → 400 at %s", async (query, path) => {
    const problem = await expectProblem(await api.request("GET", `${base}?${query}`, { token }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it("a cursor from another environment's list is refused (400)", async () => {
    const other = await createEnvironment(api, TENANT, { name: "dev" });
    const otherBase = `/v1/environments/${other.id}/agent-credentials` as const;
    await api.request("POST", otherBase, { token });
    await api.request("POST", otherBase, { token });
    const { nextCursor } = await json(await api.call(routes.agentCredentials.list, `${otherBase}?limit=1`, { token }));
    await expectProblem(await api.request("GET", `${base}?cursor=${nextCursor}`, { token }), 400);
  });
});
