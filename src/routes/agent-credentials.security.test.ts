// /v1/environments/{id}/agent-credentials refuses bad credentials, roles below admin, and other
// tenants' environments and credentials (404, nothing changed).
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES } from "../app/env.ts";
import * as routes from "../../test/harness/routes.ts";

const MIN_ROLE = "admin";
const TENANT = "ac-sec";

const bad = await badCredentials(TENANT);

describe.each(backends())("/v1/environments/{id}/agent-credentials security ($name)", (backend) => {
  let api: TestApi;
  let endpoints: [string, string][];
  beforeAll(async () => {
    api = await createTestApi(backend);
    const env = await createEnvironment(api, TENANT, { name: "prod" });
    const base = `/v1/environments/${env.id}/agent-credentials` as const;
    const cred = await json(await api.call(routes.agentCredentials.create, base, { token: await api.token(TENANT, "admin") }));
    endpoints = [
      ["GET", base],
      ["POST", base],
      ["DELETE", `${base}/${cred.id}`],
      ["POST", `${base}/${cred.id}/rotate`],
    ];
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name on every endpoint", async ({ headers, detail }) => {
    for (const [method, path] of endpoints) {
      expect((await expectProblem(await api.request(method, path, { headers }), 401)).detail, `${method} ${path}`).toMatch(detail);
    }
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} or above → allowed, below → 403 on every endpoint`, async (role) => {
    for (const token of [await api.token(TENANT, role), await api.apiKey(TENANT, role)]) {
      for (const [method, path] of endpoints) {
        const res = await api.request(method, path, { token });
        // Allowed: a success, or 409 for rotating the credential an earlier round revoked.
        if (hasRole({ role } as never, MIN_ROLE)) expect([200, 201, 204, 409], `${method} ${path}`).toContain(res.status);
        else await expectProblem(res, 403);
      }
    }
  });

  it("another tenant's environment and credential: every verb → 404, and nothing changed for the owner", async () => {
    const env = await createEnvironment(api, "acme-ac", { name: "prod" });
    const base = `/v1/environments/${env.id}/agent-credentials` as const;
    const owner = await api.token("acme-ac", "admin");
    const cred = await json(await api.call(routes.agentCredentials.create, base, { token: owner }));
    const snapshot = () =>
      api.db.withTenant(env.tenantId, async (tx) => {
        const { rows } = await tx.execute(
          sql`select (select json_agg(a order by a.id)::text from agent_credentials a) as creds, (select count(*)::int from audit_log) as audit`,
        );
        return rows[0];
      });
    const before = await snapshot();

    // The intruder's own environment, to try the credential id under a path they do own.
    const theirs = await createEnvironment(api, "other-ac", { name: "prod" });
    const theirBase = `/v1/environments/${theirs.id}/agent-credentials` as const;
    for (const token of [await api.token("other-ac", "admin"), await api.apiKey("other-ac", "admin")]) {
      await expectProblem(await api.request("GET", base, { token }), 404);
      await expectProblem(await api.request("POST", base, { token }), 404);
      for (const b of [base, theirBase]) {
        await expectProblem(await api.request("DELETE", `${b}/${cred.id}`, { token }), 404);
        await expectProblem(await api.request("POST", `${b}/${cred.id}/rotate`, { token }), 404);
      }
      expect((await json(await api.call(routes.agentCredentials.list, theirBase, { token }))).items).toEqual([]);
    }

    expect(await snapshot()).toEqual(before);
    const [listed] = (await json(await api.call(routes.agentCredentials.list, base, { token: owner }))).items;
    expect(listed).toMatchObject({ id: cred.id, revokedAt: null });
  });
});
