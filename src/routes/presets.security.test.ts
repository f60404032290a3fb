// Presets refuse every bad credential, enforce viewer (list) and editor (apply), and never apply a
// preset to another tenant's environment (404, as for an id that does not exist).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, snapshot } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import * as routes from "../../test/harness/routes.ts";

const OWNER = "acme-presetsec";
const OTHER = "other-presetsec";
const bad = await badCredentials(OWNER);

const ROUTES: { method: string; path: (id: string) => string; body?: unknown; min: Role; ok: number }[] = [
  { method: "GET", path: () => "/v1/presets", min: "viewer", ok: 200 },
  { method: "POST", path: (id) => `/v1/environments/${id}/settings/preset`, body: { preset: "restricted" }, min: "editor", ok: 201 },
];
const cases = ROUTES.map((r) => ({ ...r, name: `${r.method} ${r.path("{id}")}` }));

describe.each(backends())("presets security ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, OWNER, { name: "prod" })).id;
  });
  afterAll(() => api?.close());

  describe.each(cases)("$name", ({ method, path, body, min, ok }) => {
    it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
      // Reads cannot change anything; snapshots only where a write could have slipped through.
      const before = method === "GET" ? undefined : await snapshot(api, OWNER, envId);
      const res = await api.request(method, path(envId), { headers, body });
      expect((await expectProblem(res, 401)).detail).toMatch(detail);
      expect((res.headers.get("www-authenticate") ?? "").includes('error="invalid_token"')).toBe(invalidToken);
      if (before) expect(await snapshot(api, OWNER, envId)).toEqual(before);
    });

    it("401 for a revoked API key", async () => {
      await expectProblem(await api.request(method, path(envId), { token: await api.apiKey(OWNER, "admin", { revoked: true }), body }), 401);
    });

    it.each(ROLES)(`role %s: ${min} or above → allowed, below → 403`, async (role) => {
      const before = await snapshot(api, OWNER, envId);
      const res = await api.request(method, path(envId), { token: await api.token(OWNER, role), body });
      if (hasRole({ role } as never, min)) {
        expect(res.status).toBe(ok);
      } else {
        await expectProblem(res, 403);
        expect(await snapshot(api, OWNER, envId)).toEqual(before);
      }
    });
  });

  it("another tenant's admin (token or API key) gets 404 applying a preset, and nothing changes", async () => {
    const owner = await api.token(OWNER, "viewer");
    const current = async () => json(await api.call(routes.revisions.listRoute, `/v1/environments/${envId}/settings/revisions?limit=1`, { token: owner }));
    const history = await current();
    const before = await snapshot(api, OWNER, envId);
    const own = await createEnvironment(api, OTHER, { name: "prod" });
    const unknown = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";
    for (const token of [await api.token(OTHER, "admin"), await api.apiKey(OTHER, "admin")]) {
      const url = (id: string) => `/v1/environments/${id}/settings/preset`;
      const theirs = await expectProblem(await api.request("POST", url(envId), { token, body: { preset: "baseline" }, headers: { "if-match": "*" } }), 404);
      const none = await expectProblem(await api.request("POST", url(unknown), { token, body: { preset: "baseline" } }), 404);
      expect(theirs.detail.replace(envId, "ID")).toBe(none.detail.replace(unknown, "ID"));
      // Their own environment works, so the 404 is about ownership, not the caller.
      expect((await api.request("POST", url(own.id), { token, body: { preset: "baseline" } })).status).toBe(201);
    }
    expect(await snapshot(api, OWNER, envId)).toEqual(before);
    expect(await current()).toEqual(history);
  });

  it("the preset list is the same for every tenant and holds no tenant data", async () => {
    const a = await json(await api.call(routes.presets.listRoute, "/v1/presets", { token: await api.token(OWNER, "viewer") }));
    const b = await json(await api.call(routes.presets.listRoute, "/v1/presets", { token: await api.token(OTHER, "viewer") }));
    expect(a).toEqual(b);
    expect(JSON.stringify(a)).not.toMatch(/acme|other|[0-9a-f]{8}-[0-9a-f]{4}/);
  });
});
