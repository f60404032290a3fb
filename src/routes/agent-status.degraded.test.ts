// Gatekeeper installed but not working (issue 13, item 15b): the agent reports its webhook's
// ready endpoints and how recent its audit is; the API shows the environment `degraded` with the
// reasons (agent view and environment view) and queues environment.degraded once when that
// starts and environment.recovered once when it ends, in the status report's transaction.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { AGENT_PATHS, type AgentStatusReport } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const POLL = 10;
const WEBHOOK_DOWN = { service: "gatekeeper-webhook-service", readyEndpoints: 0, ready: false };
const WEBHOOK_UP = { service: "gatekeeper-webhook-service", readyEndpoints: 1, ready: true };
const AUDIT_FRESH = { lastAuditAt: "2026-01-01T00:00:00Z", staleAfterSeconds: 180, fresh: true };
const AUDIT_STALE = { ...AUDIT_FRESH, fresh: false };

describe.each(backends())("Gatekeeper health in the agent status ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, agent: { pollIntervalSeconds: POLL } });
  });
  afterAll(() => api?.close());

  async function setup(t: string) {
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const admin = await api.token(t, "admin");
    const hook = await json(
      await api.call(routeDefs.webhooks.create, "/v1/webhooks", {
        token: admin,
        body: { url: "https://93.184.215.14/hooks", events: ["environment.degraded", "environment.recovered"] },
      }),
    );
    const report = async (gatekeeper: AgentStatusReport["gatekeeper"]) => {
      clock = new Date(clock.getTime() + 1000); // deliveries list newest first: one report, one moment
      const res = await api.request("POST", AGENT_PATHS.status, { token: secret, body: statusReport({ gatekeeper }) });
      expect(res.status, await res.clone().text()).toBe(204);
    };
    const agent = async () => json(await api.call(routes.environmentAgent.route, `/v1/environments/${env.id}/agent`, { token: await api.token(t, "viewer") }));
    const summary = async () =>
      (await json(await api.call(routes.environments.getEnv, `/v1/environments/${env.id}`, { token: await api.token(t, "viewer") }))).agent;
    const events = async () =>
      (
        (await json(await api.call(routes.webhooks.deliveries, `/v1/webhooks/${hook.id}/deliveries?limit=100`, { token: admin }))).items as {
          eventType: string;
          payload: { data: unknown };
        }[]
      )
        .map((d) => ({ type: d.eventType, data: d.payload.data }))
        .reverse();
    return { env, report, agent, summary, events };
  }

  it("webhook without a ready endpoint, then audit stale, then healthy: degraded with the reasons, one event each way", async () => {
    const s = await setup("gkh-cycle");
    const environment = { id: s.env.id, name: "prod" };
    await s.report({ installed: true, version: "v3.23.0", webhook: WEBHOOK_UP, audit: AUDIT_FRESH });
    expect(await s.agent()).toMatchObject({ state: "online", degradedReasons: [], gatekeeper: { webhook: WEBHOOK_UP, audit: AUDIT_FRESH } });
    expect(await s.events()).toEqual([]);

    await s.report({ installed: true, version: "v3.23.0", webhook: WEBHOOK_DOWN, audit: AUDIT_FRESH });
    const webhookReason = "Gatekeeper's admission webhook has no ready endpoint (Service gatekeeper-webhook-service): admission requests are not checked";
    expect(await s.agent()).toMatchObject({ state: "degraded", degradedReasons: [webhookReason], inSync: true, error: null });
    expect(await s.summary()).toMatchObject({ state: "degraded", degradedReasons: [webhookReason] });

    // Still degraded (another reason added): no second event.
    await s.report({ installed: true, version: "v3.23.0", webhook: WEBHOOK_DOWN, audit: AUDIT_STALE });
    const auditReason = "Gatekeeper's audit is stale: the newest constraint audit is from 2026-01-01T00:00:00Z, more than 180 s ago";
    expect((await s.agent()).degradedReasons).toEqual([webhookReason, auditReason]);

    await s.report({ installed: true, version: "v3.23.0", webhook: WEBHOOK_UP, audit: AUDIT_FRESH });
    expect(await s.agent()).toMatchObject({ state: "online", degradedReasons: [] });
    expect(await s.summary()).toMatchObject({ state: "online", degradedReasons: [] });
    expect(await s.events()).toEqual([
      { type: "environment.degraded", data: { environment, reasons: [webhookReason] } },
      { type: "environment.recovered", data: { environment, previousReasons: [webhookReason, auditReason] } },
    ]);
  });

  it("a first report that is already degraded sends environment.degraded; unknown health (null, or an older agent's report) is not degraded", async () => {
    const s = await setup("gkh-first");
    await s.report({ installed: true, version: null, webhook: null, audit: AUDIT_STALE });
    expect((await s.agent()).state).toBe("degraded");
    expect((await s.events()).map((e) => e.type)).toEqual(["environment.degraded"]);
    await s.report({ installed: true, version: null });
    expect(await s.agent()).toMatchObject({ state: "online", degradedReasons: [], gatekeeper: { webhook: null, audit: null } });
    await s.report({ installed: true, version: null, webhook: null, audit: null });
    expect((await s.events()).map((e) => e.type)).toEqual(["environment.degraded", "environment.recovered"]);
  });

  it("an agent gone silent is offline, whatever it last said about Gatekeeper", async () => {
    const s = await setup("gkh-offline");
    const start = clock;
    await s.report({ installed: true, version: null, webhook: WEBHOOK_DOWN });
    try {
      clock = new Date(start.getTime() + 4 * POLL * 1000);
      expect(await s.agent()).toMatchObject({ state: "offline", degradedReasons: [] });
      expect(await s.summary()).toMatchObject({ state: "offline", degradedReasons: [] });
    } finally {
      clock = start;
    }
  });

  it("a malformed health part is a 400 naming the field; nothing queued", async () => {
    const s = await setup("gkh-bad");
    const t = await createAgentCredential(api, "gkh-bad", s.env.id);
    for (const [gatekeeper, path] of [
      [{ installed: true, version: null, webhook: { service: "x", readyEndpoints: -1, ready: false } }, "gatekeeper.webhook.readyEndpoints"],
      [{ installed: true, version: null, audit: { lastAuditAt: "yesterday", staleAfterSeconds: 180, fresh: true } }, "gatekeeper.audit.lastAuditAt"],
      [{ installed: true, version: null, audit: { ...AUDIT_FRESH, since: 1 } }, "gatekeeper.audit"],
    ] as const) {
      const problem = await expectProblem(
        await api.request("POST", AGENT_PATHS.status, { token: t.secret, body: statusReport({ gatekeeper: gatekeeper as never }) }),
        400,
      );
      expect(problem.errors?.map((e) => e.path)).toEqual([path]);
    }
    expect(await s.events()).toEqual([]);
  });
});
