// GET /v1/environments/{id}/audit-report refuses every bad credential (agent credentials
// included) and never shows another tenant's report.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, auditReport, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { ROLES } from "../app/env.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const OWNER = "ears-owner";
const OTHER = "ears-other";
const bad = await badCredentials(OWNER);

describe.each(backends())("GET /v1/environments/{id}/audit-report security ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let agentSecret: string;
  const url = (id: string) => `/v1/environments/${id}/audit-report` as const;
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, OWNER, { name: "prod" });
    agentSecret = (await createAgentCredential(api, OWNER, env.id)).secret;
    expect((await api.request("POST", AGENT_PATHS.auditReport, { token: agentSecret, body: auditReport() })).status).toBe(204);
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name", async ({ headers, detail }) => {
    expect((await expectProblem(await api.request("GET", url(env.id), { headers }), 401)).detail).toMatch(detail);
  });

  it("401 for the environment's own agent credential: agents use /agent/v1 only", async () => {
    expect((await expectProblem(await api.request("GET", url(env.id), { token: agentSecret }), 401)).detail).toMatch(/Agent credentials/);
  });

  it.each(ROLES)("role %s (JWT or API key) reads it", async (role) => {
    for (const token of [await api.token(OWNER, role), await api.apiKey(OWNER, role)]) {
      const res = await api.call(routes.environmentAuditReport.route, url(env.id), { token });
      expect(res.status).toBe(200);
      expect((await json(res)).totals.violations).toBe(5);
    }
  });

  it("another tenant's environment → 404 for every role, nothing of the report leaks, nothing changes", async () => {
    const before = await agentRows(api, env.id);
    const theirs = await createEnvironment(api, OTHER, { name: "prod" });
    for (const role of ROLES) {
      for (const token of [await api.token(OTHER, role), await api.apiKey(OTHER, role)]) {
        const problem = await expectProblem(await api.request("GET", url(env.id), { token }), 404);
        expect(problem.detail).not.toMatch(/audit report/);
        expect(JSON.stringify(problem)).not.toMatch(/privileged|pod-0/);
        // Their own environment has no report: the owner's is not reachable through it either.
        await expectProblem(await api.request("GET", url(theirs.id), { token }), 404);
      }
    }
    expect(await agentRows(api, env.id)).toEqual(before);
  });
});
