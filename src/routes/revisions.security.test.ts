// Settings history refuses every bad credential, enforces the minimum role per route, and never
// shows or changes another tenant's environment (404, as for an id that does not exist).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, setSettings, snapshot } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import * as routes from "../../test/harness/routes.ts";

const OWNER = "acme-revsec";
const OTHER = "other-revsec";
const bad = await badCredentials(OWNER);

// Each route with its minimum role; ids are filled in once the environment exists.
const ROUTES: { method: string; path: (id: string) => string; min: Role; ok: number }[] = [
  { method: "GET", path: (id) => `/v1/environments/${id}/settings/revisions`, min: "viewer", ok: 200 },
  { method: "GET", path: (id) => `/v1/environments/${id}/settings/revisions/1`, min: "viewer", ok: 200 },
  { method: "GET", path: (id) => `/v1/environments/${id}/settings/diff?from=1&to=2`, min: "viewer", ok: 200 },
  { method: "POST", path: (id) => `/v1/environments/${id}/settings/revisions/1/rollback`, min: "editor", ok: 201 },
];
const cases = ROUTES.map((r) => ({ ...r, name: `${r.method} ${r.path("{id}")}` }));

describe.each(backends())("settings revisions security ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, OWNER, { name: "prod" })).id;
    await setSettings(api, OWNER, envId, { enforcementAction: "warn" });
  });
  afterAll(() => api?.close());

  describe.each(cases)("$name", ({ method, path, min, ok }) => {
    it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
      // Reads cannot change anything; snapshots only where a write could have slipped through.
      const before = method === "GET" ? undefined : await snapshot(api, OWNER, envId);
      const res = await api.request(method, path(envId), { headers });
      const body = await expectProblem(res, 401);
      expect(body.detail).toMatch(detail);
      expect((res.headers.get("www-authenticate") ?? "").includes('error="invalid_token"')).toBe(invalidToken);
      if (before) expect(await snapshot(api, OWNER, envId)).toEqual(before);
    });

    it("401 for a revoked API key", async () => {
      await expectProblem(await api.request(method, path(envId), { token: await api.apiKey(OWNER, "admin", { revoked: true }) }), 401);
    });

    it.each(ROLES)(`role %s: ${min} or above → allowed, below → 403`, async (role) => {
      const before = await snapshot(api, OWNER, envId);
      const res = await api.request(method, path(envId), { token: await api.token(OWNER, role) });
      if (hasRole({ role } as never, min)) {
        expect(res.status).toBe(ok);
      } else {
        await expectProblem(res, 403);
        expect(await snapshot(api, OWNER, envId)).toEqual(before);
      }
    });

    it("another tenant's admin gets 404, indistinguishable from an unknown id, and nothing changes", async () => {
      const owner = await api.token(OWNER, "viewer");
      const history = await json(await api.call(routes.revisions.listRoute, `/v1/environments/${envId}/settings/revisions`, { token: owner }));
      const before = await snapshot(api, OWNER, envId);
      const intruder = await api.token(OTHER, "admin");
      // The intruder's tenant has environments of its own, so RLS is not hiding an empty tenant.
      const own = await createEnvironment(api, OTHER, { name: `prod-${method}-${Math.random().toString(36).slice(2, 8)}` });
      const theirs = await expectProblem(await api.request(method, path(envId), { token: intruder, headers: { "if-match": "*" } }), 404);
      const unknown = "5b0e4c1d-2a3f-4e6b-8c7d-9e0f1a2b3c4d";
      const none = await expectProblem(await api.request(method, path(unknown), { token: intruder }), 404);
      expect(theirs.detail.replace(envId, "ID")).toBe(none.detail.replace(unknown, "ID"));
      expect(await snapshot(api, OWNER, envId)).toEqual(before);
      expect(await json(await api.call(routes.revisions.listRoute, `/v1/environments/${envId}/settings/revisions`, { token: owner }))).toEqual(history);
      // And the owner cannot reach the intruder's environment either.
      await expectProblem(await api.request(method, path(own.id), { token: await api.token(OWNER, "admin") }), 404);
    });
  });

  it("an API key of another tenant gets 404 on a rollback", async () => {
    const before = await snapshot(api, OWNER, envId);
    const key = await api.apiKey(OTHER, "admin");
    await expectProblem(await api.request("POST", `/v1/environments/${envId}/settings/revisions/1/rollback`, { token: key }), 404);
    expect(await snapshot(api, OWNER, envId)).toEqual(before);
  });
});
