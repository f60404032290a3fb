// GET /v1/environments/{id}/audit-report: the latest report the agent sent, with totals, for
// every role of the tenant; 404 until there is one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { ROLES } from "../app/env.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

describe.each(backends())("GET /v1/environments/{id}/audit-report ($name)", (backend) => {
  let api: TestApi;
  const clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const url = (id: string) => `/v1/environments/${id}/audit-report` as const;

  it("404 before the agent's first report; then the report with totals, to every role", async () => {
    const t = "ear-read";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    expect((await expectProblem(await api.request("GET", url(env.id), { token: await api.token(t, "viewer") }), 404)).detail).toMatch(
      /not sent an audit report yet/,
    );
    const report = auditReport({
      constraints: [
        constraintAudit({ totalViolations: 40, truncated: true }, 20),
        constraintAudit({ kind: "GatehouseSeccomp", name: "seccomp", control: "seccomp", enforcementAction: "warn" }, 3),
        constraintAudit({ kind: "GatehouseSeccomp", name: "seccomp-dryrun", control: "seccomp", enforcementAction: "dryrun" }, 1),
      ],
    });
    expect((await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: report })).status).toBe(204);
    for (const role of ROLES) {
      const res = await api.call(routes.environmentAuditReport.route, url(env.id), { token: await api.token(t, role) });
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual({
        environmentId: env.id,
        receivedAt: clock.toISOString(),
        collectedAt: report.collectedAt,
        totals: {
          constraints: 3,
          violations: 44,
          byControl: { "privileged-containers": 40, seccomp: 4 },
          byEnforcementAction: { deny: 40, warn: 3, dryrun: 1 },
        },
        constraints: report.constraints,
      });
    }
  });

  it("shows the latest report only, and each environment its own", async () => {
    const t = "ear-latest";
    const one = await createEnvironment(api, t, { name: "one" });
    const two = await createEnvironment(api, t, { name: "two" });
    const c1 = await createAgentCredential(api, t, one.id);
    const c2 = await createAgentCredential(api, t, two.id);
    const post = async (secret: string, collectedAt: string, name: string) =>
      expect(
        (await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: auditReport({ collectedAt, constraints: [constraintAudit({ name }, 1)] }) }))
          .status,
      ).toBe(204);
    await post(c1.secret, "2026-01-01T00:00:00.000Z", "first");
    await post(c1.secret, "2026-01-01T00:05:00.000Z", "second");
    await post(c2.secret, "2026-01-01T00:01:00.000Z", "other");
    const token = await api.token(t, "viewer");
    const names = async (id: string) =>
      (await json(await api.call(routes.environmentAuditReport.route, url(id), { token }))).constraints.map((c: { name: string }) => c.name);
    expect(await names(one.id)).toEqual(["second"]);
    expect(await names(two.id)).toEqual(["other"]);
  });
});
