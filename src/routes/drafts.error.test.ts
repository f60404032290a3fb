// Drafts refuse bad input with problem+json naming the field and write nothing: invalid documents
// (with their paths), unknown controls, ambiguous bodies, the cap, a stale base on promotion (412
// with the diff), a missing If-Match, expired drafts (410 on every route) and unknown ones (404).
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, setSettings, snapshot } from "../../test/harness/fixtures.ts";
import { drafts as draftsTable } from "../db/schema.ts";
import * as routes from "../../test/harness/routes.ts";

const DAY = 86_400_000;

describe.each(backends())("drafts errors ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date("2030-01-01T00:00:00Z");
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, drafts: { perEnvironment: 2, ttlDays: 3 } });
  });
  afterAll(() => api?.close());

  const drafts = (id: string) => `/v1/environments/${id}/drafts` as const;
  const editor = (t: string) => {
    const at = Math.floor(clock.getTime() / 1000);
    return api.token(t, "editor", { sign: { iat: at, exp: at + 3600 } });
  };
  /** Revisions, audit rows and drafts: what a refused request must leave as it was. */
  const state = async (t: string, envId: string) => {
    const tenantId = await api.tenantId(t);
    const [d] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(draftsTable).where(eq(draftsTable.environmentId, envId)));
    return { ...(await snapshot(api, t, envId)), drafts: d?.n ?? 0 };
  };

  it("an invalid whole document: 400 with the paths inside `settings`, nothing written", async () => {
    const t = "dre-doc";
    const env = await createEnvironment(api, t, { name: "prod" });
    const before = await state(t, env.id);
    const body = await expectProblem(
      await api.request("POST", drafts(env.id), {
        token: await editor(t),
        body: { settings: { enforcementAction: "block", controls: { seccomp: { options: { allowed: ["Nope"] } } } } },
      }),
      400,
    );
    const paths = body.errors!.map((e) => e.path);
    expect(paths).toContain("settings.enforcementAction");
    expect(paths.some((p) => p.startsWith("settings.controls.seccomp.options.allowed"))).toBe(true);
    expect(await state(t, env.id)).toEqual(before);
  });

  it("a merge-patch that breaks a control, or names no control: 400 at controls.<id>…, nothing written", async () => {
    const t = "dre-patch";
    const env = await createEnvironment(api, t, { name: "prod" });
    const before = await state(t, env.id);
    const bad = await expectProblem(
      await api.request("POST", drafts(env.id), {
        token: await editor(t),
        body: { controls: { hostNetworkPorts: { options: { hostPorts: [{ min: 9000, max: 8000 }] } } } },
      }),
      400,
    );
    expect(bad.errors!.every((e) => e.path.startsWith("controls.hostNetworkPorts.options.hostPorts"))).toBe(true);
    const unknown = await expectProblem(await api.request("POST", drafts(env.id), { token: await editor(t), body: { controls: { noSuchControl: {} } } }), 400);
    expect(unknown.errors).toEqual([{ path: "controls.noSuchControl", message: expect.stringContaining("no such control") }]);
    expect(await state(t, env.id)).toEqual(before);
  });

  it.each([
    ["two sources", { preset: "baseline", settings: {} }],
    ["no source", { comment: "nothing" }],
    ["an unknown preset", { preset: "strict" }],
    ["an unknown field", { preset: "baseline", base: 3 }],
  ])("%s: 400, nothing written", async (_, body) => {
    const t = "dre-shape";
    const env = await createEnvironment(api, t, { name: `prod-${Math.random().toString(36).slice(2, 8)}` });
    const before = await state(t, env.id);
    const res = await expectProblem(await api.request("POST", drafts(env.id), { token: await editor(t), body }), 400);
    expect(res.errors?.length).toBeGreaterThan(0);
    expect(await state(t, env.id)).toEqual(before);
  });

  it("the cap: 409 naming the limit; an expired draft no longer counts", async () => {
    const t = "dre-cap";
    const env = await createEnvironment(api, t, { name: "prod" });
    for (let i = 0; i < 2; i++) expect((await api.request("POST", drafts(env.id), { token: await editor(t), body: { preset: "baseline" } })).status).toBe(201);
    const before = await state(t, env.id);
    const full = await expectProblem(await api.request("POST", drafts(env.id), { token: await editor(t), body: { preset: "baseline" } }), 409);
    expect(full.detail).toContain("DRAFTS_PER_ENVIRONMENT) is 2");
    expect(await state(t, env.id)).toEqual(before);
    clock = new Date(clock.getTime() + 3 * DAY);
    expect((await api.request("POST", drafts(env.id), { token: await editor(t), body: { preset: "baseline" } })).status).toBe(201);
  });

  it("promotion: 428 without If-Match, 412 for a stale If-Match, 412 with the diff for a stale base; nothing written", async () => {
    const t = "dre-stale";
    const env = await createEnvironment(api, t, { name: "prod" });
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token: await editor(t), body: { preset: "restricted" } }));
    const promote = `${drafts(env.id)}/${d.id}/promote`;
    let before = await state(t, env.id);
    await expectProblem(await api.request("POST", promote, { token: await editor(t) }), 428);
    const bad = await expectProblem(await api.request("POST", promote, { token: await editor(t), headers: { "if-match": "three" } }), 400);
    expect(bad.errors).toEqual([{ path: "If-Match", message: expect.any(String) }]);
    expect(await state(t, env.id)).toEqual(before);
    await setSettings(api, t, env.id, { enforcementAction: "warn" });
    before = await state(t, env.id);
    const mismatch = await api.request("POST", promote, { token: await editor(t), headers: { "if-match": '"1"' } });
    await expectProblem(mismatch, 412);
    expect(mismatch.headers.get("etag")).toBe('"2"');
    const stale = await api.request("POST", promote, { token: await editor(t), headers: { "if-match": '"2"' } });
    const body = (await expectProblem(stale, 412)) as Record<string, unknown>;
    expect(stale.headers.get("etag")).toBe('"2"');
    expect(body).toMatchObject({ baseRevision: 1, currentRevision: 2, changes: [{ path: "enforcementAction", before: "deny", after: "warn" }] });
    expect(await state(t, env.id)).toEqual(before);
    // Rebased by a preset update, it promotes.
    await api.request("PATCH", `${drafts(env.id)}/${d.id}`, { token: await editor(t), body: { preset: "restricted" } });
    expect((await api.request("POST", promote, { token: await editor(t), headers: { "if-match": '"2"' } })).status).toBe(201);
  });

  it("an expired draft is 410 on every route and unlisted; an unknown or malformed id is 404 / 400", async () => {
    const t = "dre-expired";
    const env = await createEnvironment(api, t, { name: "prod" });
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token: await editor(t), body: { preset: "baseline" } }));
    clock = new Date(Date.parse(d.expiresAt) + 1);
    const token = await editor(t);
    const before = await state(t, env.id);
    const one = `${drafts(env.id)}/${d.id}`;
    for (const [method, path, body, headers] of [
      ["GET", one],
      ["GET", `${one}/preview`],
      ["GET", `/v1/environments/${env.id}/rendered?draft=${d.id}`],
      ["PATCH", one, { preset: "restricted" }],
      ["DELETE", one],
      ["POST", `${one}/promote`, undefined, { "if-match": '"1"' }],
    ] as const) {
      const res = await expectProblem(await api.request(method, path, { token, body, headers }), 410);
      expect(res.detail, `${method} ${path}`).toContain("expired at");
    }
    expect(await state(t, env.id)).toEqual(before);
    expect((await json(await api.call(routes.drafts.listRoute, drafts(env.id), { token }))).items).toEqual([]);
    const unknown = "5b0e4c1d-2a3f-4e6b-8c7d-9e0f1a2b3c4d";
    await expectProblem(await api.request("GET", `${drafts(env.id)}/${unknown}`, { token }), 404);
    await expectProblem(await api.request("DELETE", `${drafts(env.id)}/${unknown}`, { token }), 404);
    const malformed = await expectProblem(await api.request("GET", `${drafts(env.id)}/not-a-uuid`, { token }), 400);
    expect(malformed.errors?.[0]?.path).toBe("draftId");
    await expectProblem(await api.request("POST", drafts(unknown), { token, body: { preset: "baseline" } }), 404);
  });

  it("a draft id of another environment of the same tenant is 404 there", async () => {
    const t = "dre-cross";
    const a = await createEnvironment(api, t, { name: "a" });
    const b = await createEnvironment(api, t, { name: "b" });
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(a.id), { token: await editor(t), body: { preset: "baseline" } }));
    await expectProblem(await api.request("GET", `${drafts(b.id)}/${d.id}`, { token: await editor(t) }), 404);
    await expectProblem(await api.request("POST", `${drafts(b.id)}/${d.id}/promote`, { token: await editor(t), headers: { "if-match": "*" } }), 404);
  });
});
