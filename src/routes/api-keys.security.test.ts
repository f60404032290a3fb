// /v1/api-keys refuses bad credentials, roles below admin, escalation, and other tenants' keys.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES } from "../app/env.ts";
import * as routes from "../../test/harness/routes.ts";

const MIN_ROLE = "admin";
const SOME_ID = "00000000-0000-4000-8000-000000000000";
const ENDPOINTS: [string, string, unknown?][] = [
  ["GET", "/v1/api-keys"],
  ["POST", "/v1/api-keys", { name: "k", role: "viewer" }],
  ["DELETE", `/v1/api-keys/${SOME_ID}`],
  ["POST", `/v1/api-keys/${SOME_ID}/rotate`],
];

const bad = await badCredentials("ak-sec");

describe.each(backends())("/v1/api-keys security ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
    await api.tenantId("ak-sec");
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name on every endpoint", async ({ headers, detail }) => {
    for (const [method, path, body] of ENDPOINTS) {
      const res = await api.request(method, path, { headers, body });
      expect((await expectProblem(res, 401)).detail, `${method} ${path}`).toMatch(detail);
    }
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} or above → allowed, below → 403 on every endpoint`, async (role) => {
    for (const token of [await api.token("ak-sec", role), await api.apiKey("ak-sec", role)]) {
      for (const [method, path, body] of ENDPOINTS) {
        const res = await api.request(method, path, { token, body });
        // Allowed: 200/201, or 404 for the made-up id.
        if (hasRole({ role } as never, MIN_ROLE)) expect(res.status, `${method} ${path}`).toBeLessThan(405);
        else await expectProblem(res, 403);
      }
    }
  });

  it("an editor key cannot mint an admin key (or any key): 403, nothing created", async () => {
    const editorKey = await api.apiKey("ak-sec-esc", "editor");
    for (const role of ROLES) await expectProblem(await api.request("POST", "/v1/api-keys", { token: editorKey, body: { name: "up", role } }), 403);
    const list = await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token: await api.token("ak-sec-esc", "admin") }));
    expect(list.items.map((k: { name: string }) => k.name)).toEqual(["editor key"]);
  });

  it("a revoked admin key can no longer manage keys", async () => {
    const token = await api.token("ak-sec-rev", "admin");
    const key = await json(await api.call(routes.apiKeys.create, "/v1/api-keys", { token, body: { name: "short-lived", role: "admin" } }));
    expect((await api.request("GET", "/v1/api-keys", { token: key.secret })).status).toBe(200);
    expect((await api.request("DELETE", `/v1/api-keys/${key.id}`, { token: key.secret })).status).toBe(204);
    await expectProblem(await api.request("POST", "/v1/api-keys", { token: key.secret, body: { name: "again", role: "admin" } }), 401);
  });

  it("another tenant's key: every verb → 404, and nothing changed for its owner", async () => {
    const owner = await api.token("acme-ak", "admin");
    const key = await json(await api.call(routes.apiKeys.create, "/v1/api-keys", { token: owner, body: { name: "acme's", role: "admin" } }));
    const snapshot = await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token: owner }));
    const intruders = [await api.token("other-ak", "admin"), await api.apiKey("other-ak", "admin")];
    for (const token of intruders) {
      await expectProblem(await api.request("DELETE", `/v1/api-keys/${key.id}`, { token }), 404);
      await expectProblem(await api.request("POST", `/v1/api-keys/${key.id}/rotate`, { token }), 404);
      const theirs = await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token }));
      expect(theirs.items.map((k: { id: string }) => k.id)).not.toContain(key.id);
      const audit = await json(await api.call(routes.auditLog.route, `/v1/audit-log?targetId=${key.id}`, { token }));
      expect(audit.items).toEqual([]);
    }
    // The owner's key still works with its original secret, unrevoked, and its list is unchanged.
    expect((await api.request("GET", "/v1/tenant", { token: key.secret })).status).toBe(200);
    const after = await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token: owner }));
    expect(after.items.map(({ lastUsedAt: _, ...k }: Record<string, unknown>) => k)).toEqual(
      snapshot.items.map(({ lastUsedAt: _, ...k }: Record<string, unknown>) => k),
    );
    const audit = await json(await api.call(routes.auditLog.route, `/v1/audit-log?targetId=${key.id}`, { token: owner }));
    expect(audit.items.map((e: { action: string }) => e.action)).toEqual(["api_key.create"]);
  });

  it("another tenant's list cursor is refused (400), not followed", async () => {
    const owner = await api.token("acme-ak2", "admin");
    for (let i = 0; i < 3; i++) await api.request("POST", "/v1/api-keys", { token: owner, body: { name: `k${i}`, role: "viewer" } });
    const { nextCursor } = await json(await api.call(routes.apiKeys.list, "/v1/api-keys?limit=1", { token: owner }));
    expect(nextCursor).toEqual(expect.any(String));
    await expectProblem(await api.request("GET", `/v1/api-keys?cursor=${nextCursor}`, { token: await api.token("other-ak2", "admin") }), 400);
  });
});
