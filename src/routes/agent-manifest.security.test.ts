// GET /v1/environments/{id}/agent-manifest refuses every bad credential, needs admin (JWT or API
// key), never serves another tenant's environment (404, as for an unknown id), and an agent's own
// credential cannot fetch it (agent credentials authenticate only /agent/v1).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES } from "../app/env.ts";
import * as routes from "../../test/harness/routes.ts";

const MIN_ROLE = "admin";
const OWNER = "am-sec";
const OTHER = "am-sec-other";
const bad = await badCredentials(OWNER);

describe.each(backends())("GET /v1/environments/{id}/agent-manifest security ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  const url = (id: string) => `/v1/environments/${id}/agent-manifest`;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, OWNER, { name: "prod" })).id;
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
    const res = await api.request("GET", url(envId), { headers });
    expect((await expectProblem(res, 401)).detail).toMatch(detail);
    expect((res.headers.get("www-authenticate") ?? "").includes('error="invalid_token"')).toBe(invalidToken);
  });

  it("401 for a revoked API key", async () => {
    await expectProblem(await api.request("GET", url(envId), { token: await api.apiKey(OWNER, "admin", { revoked: true }) }), 401);
  });

  it("401 for the environment's own live agent credential (and its rotated one)", async () => {
    const cred = await createAgentCredential(api, OWNER, envId);
    const problem = await expectProblem(await api.request("GET", url(envId), { token: cred.secret }), 401);
    expect(problem.detail).toMatch(/Agent credentials/);
    const admin = await api.token(OWNER, "admin");
    const rotated = await json(
      await api.call(routes.agentCredentials.rotate, `/v1/environments/${envId}/agent-credentials/${cred.id}/rotate`, { token: admin }),
    );
    await expectProblem(await api.request("GET", url(envId), { token: rotated.secret }), 401);
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} → 200, below → 403, by JWT and by API key`, async (role) => {
    for (const token of [await api.token(OWNER, role), await api.apiKey(OWNER, role)]) {
      const res = await api.request("GET", url(envId), { token });
      if (hasRole({ role } as never, MIN_ROLE)) {
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
      } else {
        const problem = await expectProblem(res, 403);
        expect(JSON.stringify(problem)).not.toContain("Deployment");
      }
    }
  });

  it("another tenant's admin gets 404, indistinguishable from an unknown id", async () => {
    await createEnvironment(api, OTHER, { name: "prod" });
    const unknown = "2c4e6a8b-1d3f-4a5b-9c7d-e1f2a3b4c5d6";
    for (const token of [await api.token(OTHER, "admin"), await api.apiKey(OTHER, "admin")]) {
      const theirs = await expectProblem(await api.request("GET", url(envId), { token }), 404);
      const none = await expectProblem(await api.request("GET", url(unknown), { token }), 404);
      expect(theirs.detail.replace(envId, "ID")).toBe(none.detail.replace(unknown, "ID"));
    }
    expect((await api.request("GET", url(envId), { token: await api.token(OWNER, "admin") })).status).toBe(200);
  });
});
