// /v1/violations* refuse bad credentials, allow every role (viewer+), and never show another
// tenant's violations, environments or counts.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import type { Problem } from "../app/problem.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { ROLES } from "../app/env.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const SOME_ID = "00000000-0000-4000-8000-000000000000";
const ENDPOINTS = [
  "/v1/violations",
  `/v1/violations/${SOME_ID}`,
  "/v1/violations/summary",
  "/v1/violations/trend",
  `/v1/environments/${SOME_ID}/violations/summary`,
];
const bad = await badCredentials("vs-sec");

describe.each(backends())("/v1/violations security ($name)", (backend) => {
  let api: TestApi;
  let theirs: { envId: string; violationId: string; cursor: string };
  beforeAll(async () => {
    api = await createTestApi(backend);
    await api.tenantId("vs-sec");
    // acme has an environment with violations.
    const env = await createEnvironment(api, "vs-acme", { name: "prod" });
    const cred = await createAgentCredential(api, "vs-acme", env.id);
    expect((await api.request("POST", AGENT_PATHS.auditReport, { token: cred.secret, body: auditReport() })).status).toBe(204);
    const page = await json(await api.call(routes.violations.list, "/v1/violations?limit=1", { token: await api.token("vs-acme", "viewer") }));
    theirs = { envId: env.id, violationId: page.items[0]!.id, cursor: page.nextCursor! };
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name on every endpoint", async ({ headers, detail }) => {
    for (const path of ENDPOINTS) expect((await expectProblem(await api.request("GET", path, { headers }), 401)).detail, path).toMatch(detail);
  });

  it.each(ROLES)("role %s (JWT and API key) may read every endpoint", async (role) => {
    for (const token of [await api.token("vs-sec", role), await api.apiKey("vs-sec", role)]) {
      for (const path of ENDPOINTS) expect((await api.request("GET", path, { token })).status, path).toBeOneOf([200, 404]);
    }
  });

  it("another tenant sees none of acme's violations, counts or environments: lists empty, ids 404, cursor 400", async () => {
    for (const token of [await api.token("vs-other", "admin"), await api.apiKey("vs-other", "admin")]) {
      expect((await json(await api.call(routes.violations.list, "/v1/violations", { token }))).items).toEqual([]);
      expect((await json(await api.call(routes.violations.list, `/v1/violations?environment=${theirs.envId}`, { token }))).items).toEqual([]);
      await expectProblem(await api.request("GET", `/v1/violations/${theirs.violationId}`, { token }), 404);
      await expectProblem(await api.request("GET", `/v1/environments/${theirs.envId}/violations/summary`, { token }), 404);
      await expectProblem(await api.request("GET", `/v1/violations?cursor=${theirs.cursor}`, { token }), 400);
      expect(await json(await api.request("GET", "/v1/violations/summary", { token }))).toMatchObject({
        open: 0,
        environments: { total: 0, reporting: 0 },
      });
      const trend = await json<Problem>(await api.request("GET", `/v1/violations/trend?days=400&environment=${theirs.envId}`, { token }).then((r) => r));
      expect(trend.status ?? 400).toBe(400); // days over 365
      const t2 = await json(await api.call(routes.violations.trend, `/v1/violations/trend?days=365&environment=${theirs.envId}`, { token }));
      expect(t2.days.every((d) => d.opened === 0 && d.open === 0)).toBe(true);
    }
    // acme itself sees them.
    expect((await api.request("GET", `/v1/violations/${theirs.violationId}`, { token: await api.token("vs-acme", "viewer") })).status).toBe(200);
  });
});
