// GET /v1/environments/{id}/agent: never connected, online, offline (3 missed poll intervals),
// in sync or not with the current revision — for every role of the tenant.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { ROLES } from "../app/env.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const POLL = 10;

describe.each(backends())("GET /v1/environments/{id}/agent ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, agent: { pollIntervalSeconds: POLL } });
  });
  afterAll(() => api?.close());

  const view = async (tenant: string, id: string, role: (typeof ROLES)[number] = "viewer") => {
    const res = await api.call(routes.environmentAgent.route, `/v1/environments/${id}/agent`, { token: await api.token(tenant, role) });
    expect(res.status, await res.clone().text()).toBe(200);
    return json(res);
  };

  it("before any report: never_connected, the current revision desired, nothing else known — to every role", async () => {
    const t = "eag-never";
    const env = await createEnvironment(api, t, { name: "prod" });
    await createAgentCredential(api, t, env.id);
    for (const role of ROLES) {
      expect(await view(t, env.id, role)).toEqual({
        state: "never_connected",
        lastSeenAt: null,
        lastSyncAt: null,
        desiredRevision: 1,
        fetchedRevision: null,
        appliedRevision: null,
        inSync: false,
        agentVersion: null,
        kubernetesVersion: null,
        gatekeeper: null,
        degradedReasons: [],
        error: null,
        objects: [],
        templates: [],
      });
    }
  });

  it(`online until more than 3 × ${POLL} s pass without a report, then offline; a new report brings it back`, async () => {
    const t = "eag-offline";
    const start = clock;
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const at = (seconds: number) => new Date(start.getTime() + seconds * 1000);
    try {
      expect((await api.request("POST", AGENT_PATHS.status, { token: secret, body: statusReport() })).status).toBe(204);
      for (const [seconds, state] of [
        [0, "online"],
        [30, "online"],
        [31, "offline"],
        [3000, "offline"],
        [-60, "online"],
      ] as const) {
        clock = at(seconds);
        expect(await view(t, env.id), `${seconds}s`).toMatchObject({ state, lastSeenAt: start.toISOString() });
      }
      clock = at(100);
      expect((await api.request("POST", AGENT_PATHS.status, { token: secret, body: statusReport() })).status).toBe(204);
      expect(await view(t, env.id)).toMatchObject({ state: "online", lastSeenAt: clock.toISOString() });
      // The environment's own summary agrees.
      const summary = (await json(await api.call(routes.environments.getEnv, `/v1/environments/${env.id}`, { token: await api.token(t, "viewer") }))).agent;
      expect(summary).toEqual({
        state: "online",
        lastSeenAt: clock.toISOString(),
        appliedRevision: 1,
        inSync: true,
        degradedReasons: [],
        gatekeeper: { installed: true, version: "v3.23.0" },
      });
    } finally {
      clock = start;
    }
  });

  it("in sync only while the applied revision is the current one; a failing agent's error and results are shown", async () => {
    const t = "eag-sync";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const admin = await api.token(t, "admin");
    expect((await api.request("POST", AGENT_PATHS.status, { token: secret, body: statusReport() })).status).toBe(204);
    expect(await view(t, env.id)).toMatchObject({ desiredRevision: 1, fetchedRevision: 1, appliedRevision: 1, inSync: true });
    const put = await api.request("PUT", `/v1/environments/${env.id}/settings`, {
      token: admin,
      headers: { "if-match": '"1"' },
      body: { settings: { controls: { seccomp: {} } } },
    });
    expect(put.status).toBe(200);
    expect(await view(t, env.id)).toMatchObject({ desiredRevision: 2, fetchedRevision: 1, appliedRevision: 1, inSync: false });
    const failing = statusReport({
      desiredRevision: 2,
      appliedRevision: 1,
      error: "ConstraintTemplate gatehouseseccomp: rego_parse_error",
      objects: [
        { apiVersion: "templates.gatekeeper.sh/v1", kind: "ConstraintTemplate", name: "gatehouseseccomp", result: "error", message: "rego_parse_error" },
      ],
      templates: [
        {
          name: "gatehouseseccomp",
          created: false,
          crdEstablished: false,
          errors: [{ pod: "gatekeeper-audit-0", code: "rego_parse_error", message: "unexpected eof" }],
        },
      ],
    });
    expect((await api.request("POST", AGENT_PATHS.status, { token: secret, body: failing })).status).toBe(204);
    expect(await view(t, env.id)).toMatchObject({
      state: "online",
      desiredRevision: 2,
      fetchedRevision: 2,
      appliedRevision: 1,
      inSync: false,
      error: failing.error,
      objects: failing.objects,
      templates: failing.templates,
    });
  });
  it("says whether Gatekeeper records admission Events (the denial history needs --emit-admission-events)", async () => {
    const t = "eag-events";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    for (const admissionEvents of [false, true, null]) {
      const report = statusReport();
      expect(
        (await api.request("POST", AGENT_PATHS.status, { token: secret, body: { ...report, gatekeeper: { ...report.gatekeeper, admissionEvents } } })).status,
      ).toBe(204);
      expect((await view(t, env.id)).gatekeeper!.admissionEvents).toBe(admissionEvents);
    }
    // An older agent says nothing of it: unknown, not false.
    expect((await api.request("POST", AGENT_PATHS.status, { token: secret, body: statusReport() })).status).toBe(204);
    expect((await view(t, env.id)).gatekeeper!.admissionEvents).toBeNull();
  });

  it("says whether Gatekeeper generated the ValidatingAdmissionPolicies of API-server controls, and an error degrades the environment", async () => {
    const t = "eag-vap";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    const policy = { source: "gatehouseprivilegedcontainers", name: "gatekeeper-gatehouseprivilegedcontainers" };
    const binding = { source: "privileged-containers", name: "gatekeeper-gatehouseprivilegedcontainers-privileged-containers" };
    const send = async (vap: unknown) => {
      const report = statusReport();
      const res = await api.request("POST", AGENT_PATHS.status, { token: secret, body: { ...report, gatekeeper: { ...report.gatekeeper, vap } } });
      expect(res.status).toBe(204);
      return view(t, env.id);
    };
    const generated = { generated: true, policies: [{ ...policy, state: "generated" }], bindings: [{ ...binding, state: "generated" }] };
    const ok = await send(generated);
    expect(ok.gatekeeper!.vap).toEqual(generated);
    expect(ok.degradedReasons).toEqual([]);
    const failed = await send({
      generated: false,
      policies: [{ ...policy, state: "error", message: "no VAP API" }],
      bindings: [{ ...binding, state: "pending" }],
    });
    expect(failed.state).toBe("degraded");
    expect(failed.degradedReasons).toEqual([
      "Gatekeeper could not generate gatekeeper-gatehouseprivilegedcontainers for gatehouseprivilegedcontainers (no VAP API): the API server does not enforce it",
    ]);
    // A state the protocol does not know is refused, naming the field.
    const bad = statusReport();
    const refused = await api.request("POST", AGENT_PATHS.status, {
      token: secret,
      body: { ...bad, gatekeeper: { ...bad.gatekeeper, vap: { generated: true, policies: [{ ...policy, state: "maybe" }], bindings: [] } } },
    });
    expect(refused.status).toBe(400);
    expect(JSON.stringify(await refused.json())).toContain("gatekeeper.vap.policies[0].state");
    expect((await send(null)).gatekeeper!.vap).toBeNull();
  });
});
