// Every draft route refuses bad credentials, enforces its minimum role (viewers read, editors
// create, change, delete and promote), and never shows or changes another tenant's drafts (404, as
// for an id that does not exist), with nothing written when it refuses.
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, snapshot } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import { drafts } from "../db/schema.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const OWNER = "acme-draftsec";
const OTHER = "other-draftsec";
const bad = await badCredentials(OWNER);

type Case = { method: string; path: (env: string, draft: string) => string; min: Role; ok: number; body?: unknown; headers?: Record<string, string> };
const one = (env: string, draft: string) => `/v1/environments/${env}/drafts/${draft}` as const;
const ROUTES: Case[] = [
  { method: "GET", path: (e) => `/v1/environments/${e}/drafts`, min: "viewer", ok: 200 },
  { method: "POST", path: (e) => `/v1/environments/${e}/drafts`, min: "editor", ok: 201, body: { preset: "baseline" } },
  { method: "GET", path: one, min: "viewer", ok: 200 },
  { method: "GET", path: (e, d) => `${one(e, d)}/preview`, min: "viewer", ok: 200 },
  { method: "GET", path: (e, d) => `/v1/environments/${e}/rendered?draft=${d}`, min: "viewer", ok: 200 },
  { method: "PATCH", path: one, min: "editor", ok: 200, body: { controls: { seccomp: { enabled: true } } } },
  { method: "DELETE", path: one, min: "editor", ok: 204 },
  { method: "POST", path: (e, d) => `${one(e, d)}/promote`, min: "editor", ok: 201, headers: { "if-match": "*" } },
];
const cases = ROUTES.map((r) => ({ ...r, name: `${r.method} ${r.path("{id}", "{draftId}")}` }));

describe.each(backends())("drafts security ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend, { drafts: { perEnvironment: 100 } });
  });
  afterAll(() => api?.close());

  /** A draft of the owner's environment, fresh for the routes that consume it (delete, promote). */
  let shared: string | undefined;
  const newDraft = async (fresh = true) => {
    if (!fresh && shared) return shared;
    const res = await api.call(routeDefs.drafts.createDraftRoute, `/v1/environments/${envId}/drafts`, {
      token: await api.token(OWNER, "editor"),
      body: { preset: "baseline" },
    });
    expect(res.status).toBe(201);
    const id = (await json(res)).id as string;
    if (!fresh) shared = id;
    return id;
  };
  const state = async () => {
    const tenantId = await api.tenantId(OWNER);
    const [d] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(drafts).where(eq(drafts.environmentId, envId)));
    return { ...(await snapshot(api, OWNER, envId)), drafts: d?.n ?? 0 };
  };

  let envId: string;
  describe.each(cases)("$name", ({ method, path, min, ok, body, headers }) => {
    // One environment per route, so the drafts it makes stay under the cap.
    beforeAll(async () => {
      envId = (await createEnvironment(api, OWNER, { name: `prod-${method}-${Math.random().toString(36).slice(2, 8)}` })).id;
      shared = undefined;
    });
    const consumes = method === "DELETE" || path("E", "D").endsWith("/promote");
    it.each(bad)("401 for $name, nothing written", async ({ headers: auth, detail }) => {
      const draft = await newDraft(consumes);
      const before = await state();
      const res = await api.request(method, path(envId, draft), { headers: { ...headers, ...auth }, body });
      expect((await expectProblem(res, 401)).detail).toMatch(detail);
      expect(await state()).toEqual(before);
    });

    it("401 for a revoked API key", async () => {
      await expectProblem(
        await api.request(method, path(envId, await newDraft(consumes)), { token: await api.apiKey(OWNER, "admin", { revoked: true }), body, headers }),
        401,
      );
    });

    it.each(ROLES)(`role %s: ${min} or above → allowed, below → 403 and nothing written`, async (role) => {
      const draft = await newDraft(consumes);
      const before = await state();
      const res = await api.request(method, path(envId, draft), { token: await api.token(OWNER, role), body, headers });
      if (hasRole({ role } as never, min)) {
        expect(res.status, await res.clone().text()).toBe(ok);
      } else {
        await expectProblem(res, 403);
        expect(await state()).toEqual(before);
      }
    });

    it("another tenant's admin gets 404, indistinguishable from an unknown id, and nothing changes", async () => {
      const draft = await newDraft(consumes);
      const owner = await api.token(OWNER, "viewer");
      const seen = await json(await api.call(routeDefs.drafts.getRoute, one(envId, draft), { token: owner }));
      const before = await state();
      const intruder = await api.token(OTHER, "admin");
      // The intruder has an environment and a draft of its own, so RLS is not hiding an empty tenant.
      const own = await createEnvironment(api, OTHER, { name: `prod-${Math.random().toString(36).slice(2, 8)}` });
      const ownDraft = (
        await json(await api.call(routeDefs.drafts.createDraftRoute, `/v1/environments/${own.id}/drafts`, { token: intruder, body: { preset: "baseline" } }))
      ).id as string;
      const theirs = await expectProblem(await api.request(method, path(envId, draft), { token: intruder, body, headers }), 404);
      const unknown = "5b0e4c1d-2a3f-4e6b-8c7d-9e0f1a2b3c4d";
      const none = await expectProblem(await api.request(method, path(unknown, unknown), { token: intruder, body, headers }), 404);
      expect(theirs.detail.replace(envId, "ID").replace(draft, "DRAFT")).toBe(none.detail.replace(unknown, "ID").replace(unknown, "DRAFT"));
      // Their own environment with the owner's draft id: still 404.
      if (path("E", "D").includes("D")) await expectProblem(await api.request(method, path(own.id, draft), { token: intruder, body, headers }), 404);
      expect(await state()).toEqual(before);
      expect(await json(await api.call(routeDefs.drafts.getRoute, one(envId, draft), { token: owner }))).toEqual(seen);
      // And the owner cannot reach the intruder's draft either.
      await expectProblem(await api.request(method, path(own.id, ownDraft), { token: await api.token(OWNER, "admin"), body, headers }), 404);
    });
  });
});
