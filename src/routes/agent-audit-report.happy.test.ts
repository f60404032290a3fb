// POST /agent/v1/audit-report: the agent's Gatekeeper audit, kept as the environment's latest
// report and read back by its users with totals; large reports fit the agent body limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, auditReport, constraintAudit, createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { gzipJson } from "../db/gzip-json.ts";
import { auditReports } from "../db/schema.ts";
import { AGENT_PATHS, AUDIT_REPORT_MAX_AHEAD_SECONDS, type AuditReport } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.auditReport;

describe.each(backends())("POST /agent/v1/audit-report ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const post = async (token: string, body: AuditReport | string) => {
    const res = await api.request("POST", URL, { token, body });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await res.text()).toBe("");
  };
  const read = async (tenant: string, id: string) =>
    json(await api.call(routes.environmentAuditReport.route, `/v1/environments/${id}/audit-report`, { token: await api.token(tenant, "viewer") }));

  it("round trip: the agent reports, the environment's users read it with totals; nothing is audited", async () => {
    const t = "aar-round";
    const env = await createEnvironment(api, t, { name: "prod" });
    const cred = await createAgentCredential(api, t, env.id);
    const report = auditReport();
    await post(cred.secret, report);
    const { report: row, audits } = await agentRows(api, env.id);
    expect(row).toEqual({
      environmentId: env.id,
      tenantId: await api.tenantId(t),
      report,
      totalViolations: 5,
      receivedAt: clock,
      collectedAt: new Date(report.collectedAt),
      // Its ingest finished (the 204 came after).
      ingestedAt: clock,
    });
    expect(audits).toEqual([]);
    expect(await read(t, env.id)).toEqual({
      environmentId: env.id,
      receivedAt: clock.toISOString(),
      collectedAt: report.collectedAt,
      totals: { constraints: 2, violations: 5, byControl: { "privileged-containers": 2, capabilities: 3 }, byEnforcementAction: { deny: 2, warn: 3 } },
      constraints: report.constraints,
    });
  });

  it("a newer report replaces the last; a late retry of an older one is accepted but does not", async () => {
    const t = "aar-replace";
    const start = clock;
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    try {
      await post(secret, auditReport({ collectedAt: "2026-01-01T00:01:00.000Z" }));
      clock = new Date(start.getTime() + 60_000);
      const newer = auditReport({ collectedAt: "2026-01-01T00:02:00.000Z", constraints: [constraintAudit({}, 1)] });
      await post(secret, newer);
      expect(await read(t, env.id)).toMatchObject({
        collectedAt: newer.collectedAt,
        receivedAt: clock.toISOString(),
        totals: { constraints: 1, violations: 1 },
      });
      clock = new Date(start.getTime() + 120_000);
      await post(secret, auditReport({ collectedAt: "2026-01-01T00:01:30.000Z" }));
      expect((await agentRows(api, env.id)).report).toMatchObject({ report: newer, totalViolations: 1, receivedAt: new Date(start.getTime() + 60_000) });
      // An empty report (nothing managed, or everything clean) is a report too.
      await post(secret, { collectedAt: "2026-01-01T00:03:00.000Z", constraints: [] });
      expect((await read(t, env.id)).totals).toEqual({ constraints: 0, violations: 0, byControl: {}, byEnforcementAction: {} });
    } finally {
      clock = start;
    }
  });

  it(`a report collected up to ${AUDIT_REPORT_MAX_AHEAD_SECONDS} s ahead of the API's clock is accepted; further ahead is a 400 naming collectedAt`, async () => {
    const t = "aar-ahead";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const ahead = (s: number) => new Date(clock.getTime() + s * 1000).toISOString();
    const problem = await expectProblem(
      await api.request("POST", URL, { token: secret, body: auditReport({ collectedAt: ahead(AUDIT_REPORT_MAX_AHEAD_SECONDS + 1) }) }),
      400,
    );
    expect(problem.errors).toEqual([
      { path: "collectedAt", message: `must not be more than ${AUDIT_REPORT_MAX_AHEAD_SECONDS} seconds ahead of the server's clock` },
    ]);
    expect((await agentRows(api, env.id)).report).toBeUndefined();
    await post(secret, auditReport({ collectedAt: ahead(AUDIT_REPORT_MAX_AHEAD_SECONDS) }));
    expect((await read(t, env.id)).collectedAt).toBe(ahead(AUDIT_REPORT_MAX_AHEAD_SECONDS));
  });

  it("a far-future report already stored (as an older API accepted one) does not block the next: it replaces it and moves the history", async () => {
    const t = "aar-future-row";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const tenantId = await api.tenantId(t);
    const poisoned = auditReport({ collectedAt: "9999-12-31T23:59:59.000Z", constraints: [] });
    await api.db.asSystem((tx) =>
      tx.insert(auditReports).values({
        environmentId: env.id,
        tenantId,
        report: gzipJson(poisoned),
        totalViolations: 0,
        receivedAt: new Date(clock.getTime() - 60_000),
        collectedAt: new Date(poisoned.collectedAt),
      }),
    );
    const next = auditReport({ collectedAt: clock.toISOString(), constraints: [constraintAudit({}, 2)] });
    await post(secret, next);
    expect(await read(t, env.id)).toMatchObject({ collectedAt: next.collectedAt, totals: { violations: 2 } });
    const open = await json(await api.call(routes.violations.list, `/v1/violations?environment=${env.id}&state=open`, { token: await api.token(t, "viewer") }));
    expect(open.items.map((v: { openedAt: string }) => v.openedAt)).toEqual([next.collectedAt, next.collectedAt]);
    // And the ones after it keep replacing it, in the agent's order.
    const after = auditReport({ collectedAt: new Date(clock.getTime() + 1000).toISOString(), constraints: [] });
    await post(secret, after);
    expect((await read(t, env.id)).collectedAt).toBe(after.collectedAt);
  });

  it("totals count Gatekeeper's totalViolations, not only the listed (truncated) ones; constraints without a control count by action", async () => {
    const t = "aar-totals";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    await post(
      secret,
      auditReport({
        constraints: [
          constraintAudit({ totalViolations: 250, truncated: true }, 20),
          constraintAudit({ kind: "K8sOther", name: "other", control: null, enforcementAction: "dryrun", auditTimestamp: null }, 0),
          constraintAudit({ name: "privileged-containers-warn", enforcementAction: "warn", totalViolations: 7 }, 7),
        ],
      }),
    );
    expect((await read(t, env.id)).totals).toEqual({
      constraints: 3,
      violations: 257,
      byControl: { "privileged-containers": 257 },
      byEnforcementAction: { deny: 250, dryrun: 0, warn: 7 },
    });
    expect((await agentRows(api, env.id)).report?.totalViolations).toBe(257);
  });

  it("10,000 violations (~3 MB) fit AGENT_BODY_LIMIT_BYTES though far over BODY_LIMIT_BYTES", async () => {
    const t = "aar-large";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const report = auditReport({
      constraints: Array.from({ length: 10 }, (_, i) => {
        const c = constraintAudit({ name: `constraint-${i}` }, 1000);
        return { ...c, violations: c.violations.map((v, j) => ({ ...v, name: `pod-${i}-${j}`, message: `${v.message} ${"detail ".repeat(20)}` })) };
      }),
    });
    const body = JSON.stringify(report);
    expect(body.length).toBeGreaterThan(2_500_000);
    expect(body.length).toBeGreaterThan(api.config.bodyLimitBytes);
    await post(secret, body);
    const read1 = await read(t, env.id);
    expect(read1.totals).toMatchObject({ constraints: 10, violations: 10_000 });
    expect(read1.constraints[9]!.violations[999]!.name).toBe("pod-9-999");
  });
});
