// POST /agent/v1/status: the agent's heartbeat and report, read back by the environment's users;
// audited only when the applied revision or Gatekeeper's installation changes.
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { agentStatus } from "../db/schema.ts";
import { reportHash } from "../services/agent-status.ts";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../protocol/agent.ts";
import { presets } from "../policies/index.ts";
import { AGENT_PATHS, AgentStatusReport } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.status;

describe.each(backends())("POST /agent/v1/status ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const post = async (token: string, body: AgentStatusReport) => {
    const res = await api.request("POST", URL, { token, body });
    expect(res.status, await res.clone().text()).toBe(204);
    expect(await res.text()).toBe("");
  };
  const agentView = async (tenant: string, id: string) =>
    json(await api.call(routes.environmentAgent.route, `/v1/environments/${id}/agent`, { token: await api.token(tenant, "viewer") }));

  it("round trip: the agent reports, the row holds it, the environment's users read it, the change is audited", async () => {
    const t = "ast-round";
    const env = await createEnvironment(api, t, { name: "prod", settings: { controls: presets.baseline.controls } });
    const cred = await createAgentCredential(api, t, env.id);
    const report = statusReport({ appliedRevision: 1, desiredRevision: 1, lastSuccessfulSyncAt: "2030-01-01T00:00:00.000Z" });
    await post(cred.secret, report);

    const { status, audits } = await agentRows(api, env.id);
    expect(status).toEqual({
      environmentId: env.id,
      tenantId: await api.tenantId(t),
      report,
      appliedRevision: 1,
      desiredRevision: 1,
      agentVersion: "0.1.0",
      lastSeenAt: clock,
      lastSyncAt: new Date("2030-01-01T00:00:00.000Z"),
      credentialId: cred.id,
      reportHash: reportHash(AgentStatusReport.parse(report)),
    });
    expect(await agentView(t, env.id)).toEqual({
      state: "online",
      lastSeenAt: clock.toISOString(),
      lastSyncAt: "2030-01-01T00:00:00.000Z",
      desiredRevision: 1,
      fetchedRevision: 1,
      appliedRevision: 1,
      inSync: true,
      agentVersion: "0.1.0",
      kubernetesVersion: "v1.36.0",
      gatekeeper: { installed: true, version: "v3.23.0", webhook: null, audit: null, admissionEvents: null, vap: null },
      degradedReasons: [],
      error: null,
      objects: report.objects,
      templates: report.templates,
    });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actor: `agent:${cred.prefix}`,
      action: "agent.status_changed",
      targetType: "environment",
      targetId: env.id,
      before: null,
      after: { appliedRevision: 1, gatekeeper: { installed: true, version: "v3.23.0" }, agentVersion: "0.1.0" },
    });
    // The tenant's admins find it in the audit log like any other change.
    const log = await json(await api.call(routes.auditLog.route, "/v1/audit-log?action=agent.*", { token: await api.token(t, "admin") }));
    expect(log.items.map((i: { actor: string; action: string }) => [i.actor, i.action])).toEqual([[`agent:${cred.prefix}`, "agent.status_changed"]]);
  });

  it("heartbeats refresh lastSeenAt and replace the report without audit rows; applied revision and Gatekeeper changes are audited", async () => {
    const t = "ast-beat";
    const start = clock;
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret, prefix } = await createAgentCredential(api, t, env.id);
    const admin = await api.token(t, "admin");
    try {
      await post(secret, statusReport());
      // Same report, later: seen again, nothing audited.
      clock = new Date(start.getTime() + 30_000);
      await post(secret, statusReport());
      expect((await agentRows(api, env.id)).status?.lastSeenAt).toEqual(clock);
      // Errors, objects, templates, versions other than Gatekeeper's: replaced, not audited.
      const noisy = statusReport({
        error: "apply ConstraintTemplate gatehouseseccomp: connection refused",
        agentVersion: "0.1.1",
        kubernetesVersion: "v1.36.1",
        objects: [
          { apiVersion: "templates.gatekeeper.sh/v1", kind: "ConstraintTemplate", name: "gatehouseseccomp", result: "error", message: "connection refused" },
        ],
        templates: [],
      });
      await post(secret, noisy);
      expect((await agentRows(api, env.id)).status).toMatchObject({ report: noisy, agentVersion: "0.1.1" });
      expect((await agentRows(api, env.id)).audits).toHaveLength(1);
      expect((await agentView(t, env.id)).error).toBe(noisy.error);

      // A new revision through the user API, then applied by the agent: audited.
      const put = await api.request("PUT", `/v1/environments/${env.id}/settings`, { token: admin, headers: { "if-match": '"1"' }, body: { settings: {} } });
      expect(put.status).toBe(200);
      expect(await agentView(t, env.id)).toMatchObject({ desiredRevision: 2, appliedRevision: 1, inSync: false });
      await post(secret, statusReport({ appliedRevision: 2, desiredRevision: 2 }));
      expect(await agentView(t, env.id)).toMatchObject({ desiredRevision: 2, appliedRevision: 2, inSync: true });
      await post(secret, statusReport({ appliedRevision: 2, desiredRevision: 2, gatekeeper: { installed: true, version: "v3.24.0" } }));
      await post(secret, statusReport({ appliedRevision: 2, desiredRevision: 2, gatekeeper: { installed: false, version: null } }));
      await post(secret, statusReport({ appliedRevision: 2, desiredRevision: 2, gatekeeper: { installed: false, version: null } }));
      const { audits } = await agentRows(api, env.id);
      expect(audits.map((a) => [a.actor, a.before, a.after])).toEqual([
        [`agent:${prefix}`, null, { appliedRevision: 1, gatekeeper: { installed: true, version: "v3.23.0" }, agentVersion: "0.1.0" }],
        [
          `agent:${prefix}`,
          { appliedRevision: 1, gatekeeper: { installed: true, version: "v3.23.0" } },
          { appliedRevision: 2, gatekeeper: { installed: true, version: "v3.23.0" }, agentVersion: "0.1.0" },
        ],
        [
          `agent:${prefix}`,
          { appliedRevision: 2, gatekeeper: { installed: true, version: "v3.23.0" } },
          { appliedRevision: 2, gatekeeper: { installed: true, version: "v3.24.0" }, agentVersion: "0.1.0" },
        ],
        [
          `agent:${prefix}`,
          { appliedRevision: 2, gatekeeper: { installed: true, version: "v3.24.0" } },
          { appliedRevision: 2, gatekeeper: { installed: false, version: null }, agentVersion: "0.1.0" },
        ],
      ]);
    } finally {
      clock = start;
    }
  });

  it("a first agent that never synced: nulls are accepted and shown as such", async () => {
    const t = "ast-first";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    await post(
      secret,
      statusReport({
        appliedRevision: null,
        desiredRevision: null,
        lastSuccessfulSyncAt: null,
        kubernetesVersion: null,
        gatekeeper: { installed: false, version: null },
        error: "Gatekeeper is not installed",
        objects: [],
        templates: [],
      }),
    );
    expect(await agentView(t, env.id)).toMatchObject({
      state: "online",
      appliedRevision: null,
      fetchedRevision: null,
      lastSyncAt: null,
      inSync: false,
      gatekeeper: { installed: false, version: null },
      error: "Gatekeeper is not installed",
    });
  });

  it("one row per environment, whichever of its credentials reports; a rotated credential's new secret reports", async () => {
    const t = "ast-two";
    const env = await createEnvironment(api, t, { name: "prod" });
    const first = await createAgentCredential(api, t, env.id);
    const second = await createAgentCredential(api, t, env.id);
    await post(first.secret, statusReport());
    await post(second.secret, statusReport({ agentVersion: "0.2.0" }));
    const rows = await api.db.asSystem((tx) => tx.select({ n: count() }).from(agentStatus).where(eq(agentStatus.environmentId, env.id)));
    expect(rows[0]!.n).toBe(1);
    expect((await agentRows(api, env.id)).status).toMatchObject({ credentialId: second.id, agentVersion: "0.2.0" });
    const rotated = await json(
      await api.call(routeDefs.agentCredentials.rotate, `/v1/environments/${env.id}/agent-credentials/${first.id}/rotate`, {
        token: await api.token(t, "admin"),
      }),
    );
    await post(rotated.secret, statusReport({ agentVersion: "0.3.0" }));
    expect((await agentRows(api, env.id)).status).toMatchObject({ credentialId: first.id, agentVersion: "0.3.0" });
  });
  it("a repeat inside one poll interval writes nothing; after it only the times move; a change, or a row without a hash, is written", async () => {
    const t = "ast-repeat";
    const start = clock;
    const interval = DEFAULT_POLL_INTERVAL_SECONDS * 1000;
    const at = (ms: number) => new Date(start.getTime() + ms);
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const status = async () => (await agentRows(api, env.id)).status!;
    try {
      const first = statusReport({ lastSuccessfulSyncAt: start.toISOString() });
      await post(secret, first);
      // The same report, its sync time moved, before an interval has passed: the row is as it was.
      clock = at(interval - 1);
      await post(secret, statusReport({ lastSuccessfulSyncAt: clock.toISOString() }));
      expect(await status()).toMatchObject({ lastSeenAt: start, lastSyncAt: start, report: first });
      // An interval after the last write: a heartbeat moves lastSeenAt, lastSyncAt and the report's sync time.
      clock = at(interval);
      await post(secret, statusReport({ lastSuccessfulSyncAt: clock.toISOString() }));
      expect(await status()).toMatchObject({
        lastSeenAt: at(interval),
        lastSyncAt: at(interval),
        report: { lastSuccessfulSyncAt: at(interval).toISOString() },
      });
      // A changed report inside the interval is written at once.
      clock = at(interval + 1);
      const changed = statusReport({ lastSuccessfulSyncAt: clock.toISOString(), error: "apply failed" });
      await post(secret, changed);
      expect(await status()).toMatchObject({ lastSeenAt: at(interval + 1), report: changed, reportHash: reportHash(AgentStatusReport.parse(changed)) });
      // A row written before report hashes existed (null) compares as changed: written, hash stored.
      await api.db.asSystem((tx) => tx.update(agentStatus).set({ reportHash: null }).where(eq(agentStatus.environmentId, env.id)));
      clock = at(interval + 2);
      await post(secret, statusReport({ lastSuccessfulSyncAt: clock.toISOString(), error: "apply failed" }));
      expect(await status()).toMatchObject({ lastSeenAt: at(interval + 2), reportHash: reportHash(AgentStatusReport.parse(changed)) });
    } finally {
      clock = start;
    }
  });
});
