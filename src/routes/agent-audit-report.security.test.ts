// POST /agent/v1/audit-report accepts only a live agent credential, and a credential only ever
// writes its own environment's report — never another of its tenant's, never another tenant's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentRows,
  auditReport,
  badAgentCredentials,
  constraintAudit,
  createAgentCredential,
  type AgentCredentialJson,
  type BadAgentCredential,
} from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.auditReport;
const T = "aars-owner";
const OTHER = "aars-other";
const KEYS = ["a", "b", "c"] as const;
const tenantOf = (k: (typeof KEYS)[number]) => (k === "c" ? OTHER : T);

describe.each(backends())("POST /agent/v1/audit-report security ($name)", (backend) => {
  let api: TestApi;
  let bad: BadAgentCredential[];
  const envs: Record<(typeof KEYS)[number], EnvJson> = {} as never;
  const creds: Record<(typeof KEYS)[number], AgentCredentialJson> = {} as never;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envs.a = await createEnvironment(api, T, { name: "env-a" });
    envs.b = await createEnvironment(api, T, { name: "env-b" });
    envs.c = await createEnvironment(api, OTHER, { name: "env-c" });
    for (const k of KEYS) {
      creds[k] = await createAgentCredential(api, tenantOf(k), envs[k].id);
      expect(
        (await api.request("POST", URL, { token: creds[k].secret, body: auditReport({ constraints: [constraintAudit({ name: `only-${k}` }, 1)] }) })).status,
      ).toBe(204);
    }
    bad = await badAgentCredentials(api, T, envs.a.id);
  });
  afterAll(() => api?.close());

  const everything = async () => Object.fromEntries(await Promise.all(KEYS.map(async (k) => [k, await agentRows(api, envs[k].id)])));
  const forged = () => auditReport({ collectedAt: "2099-01-01T00:00:00.000Z", constraints: [constraintAudit({ name: "forged" }, 0)] });

  it("401 for every missing, malformed, user, API-key, unknown, forged, revoked or rotated-away credential; nothing written", async () => {
    const before = await everything();
    for (const { name, headers, detail } of bad) {
      expect((await expectProblem(await api.request("POST", URL, { headers, body: forged() }), 401)).detail, name).toMatch(detail);
    }
    expect(await everything()).toEqual(before);
  });

  it("each credential writes its own environment's report only; its users see only theirs", async () => {
    for (const k of KEYS) {
      const before = await everything();
      const body = auditReport({ collectedAt: `2026-06-0${KEYS.indexOf(k) + 1}T00:00:00.000Z`, constraints: [constraintAudit({ name: `again-${k}` }, 2)] });
      expect((await api.request("POST", URL, { token: creds[k].secret, body })).status).toBe(204);
      const after = await everything();
      for (const o of KEYS) {
        if (o === k) expect(after[o].report).toMatchObject({ report: body, tenantId: await api.tenantId(tenantOf(k)) });
        else expect(after[o], `${k} wrote ${o}`).toEqual(before[o]);
      }
      const seen = await json(
        await api.call(routes.environmentAuditReport.route, `/v1/environments/${envs[k].id}/audit-report`, { token: await api.token(tenantOf(k), "viewer") }),
      );
      expect(seen.constraints.map((c: { name: string }) => c.name)).toEqual([`again-${k}`]);
    }
  });

  it("no body field, parameter or path points a credential at another environment", async () => {
    const before = await everything();
    const token = creds.a.secret;
    await expectProblem(await api.request("POST", URL, { token, body: { ...forged(), environmentId: envs.b.id } }), 400);
    await expectProblem(await api.request("POST", `${URL}?environmentId=${envs.b.id}`, { token, body: forged() }), 400);
    await expectProblem(await api.request("POST", `/agent/v1/environments/${envs.b.id}/audit-report`, { token, body: forged() }), 404);
    expect(await everything()).toEqual(before);
  });
});
