// POST /agent/v1/status accepts only a live agent credential, and a credential only ever writes
// its own environment's status — never another of its tenant's, never another tenant's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentRows,
  badAgentCredentials,
  createAgentCredential,
  statusReport,
  type AgentCredentialJson,
  type BadAgentCredential,
} from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

const URL = AGENT_PATHS.status;
const T = "asts-owner";
const OTHER = "asts-other";
const KEYS = ["a", "b", "c"] as const;

describe.each(backends())("POST /agent/v1/status security ($name)", (backend) => {
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
      creds[k] = await createAgentCredential(api, k === "c" ? OTHER : T, envs[k].id);
      expect((await api.request("POST", URL, { token: creds[k].secret, body: statusReport({ agentVersion: `agent-${k}` }) })).status).toBe(204);
    }
    bad = await badAgentCredentials(api, T, envs.a.id);
  });
  afterAll(() => api?.close());

  const everything = async () => Object.fromEntries(await Promise.all(KEYS.map(async (k) => [k, await agentRows(api, envs[k].id)])));

  it("401 for every missing, malformed, user, API-key, unknown, forged, revoked or rotated-away credential; nothing written", async () => {
    const before = await everything();
    for (const { name, headers, detail } of bad) {
      const res = await api.request("POST", URL, { headers, body: statusReport({ agentVersion: "intruder", appliedRevision: null }) });
      expect((await expectProblem(res, 401)).detail, name).toMatch(detail);
      expect(res.headers.get("www-authenticate"), name).toMatch(/^Bearer realm="gatehouse"/);
    }
    expect(await everything()).toEqual(before);
  });

  it("each credential writes its own environment only: the others' rows and audit entries are untouched", async () => {
    for (const k of KEYS) {
      const before = await everything();
      const res = await api.request("POST", URL, { token: creds[k].secret, body: statusReport({ agentVersion: `again-${k}`, appliedRevision: null }) });
      expect(res.status).toBe(204);
      const after = await everything();
      for (const o of KEYS) {
        if (o === k) {
          expect(after[o].status).toMatchObject({ agentVersion: `again-${k}`, credentialId: creds[k].id, appliedRevision: null });
          expect(after[o].audits.at(-1)).toMatchObject({ actor: `agent:${creds[k].prefix}`, targetId: envs[k].id });
          expect(after[o].audits.at(-1)!.tenantId).toBe(await api.tenantId(k === "c" ? OTHER : T));
        } else {
          expect(after[o], `${k} wrote ${o}`).toEqual(before[o]);
        }
      }
    }
  });

  it("no body field, parameter, header or path points a credential at another environment", async () => {
    const before = await everything();
    const token = creds.a.secret;
    await expectProblem(await api.request("POST", URL, { token, body: { ...statusReport(), environmentId: envs.b.id } }), 400);
    await expectProblem(await api.request("POST", `${URL}?environmentId=${envs.b.id}`, { token, body: statusReport() }), 400);
    await expectProblem(await api.request("POST", `/agent/v1/environments/${envs.b.id}/status`, { token, body: statusReport() }), 404);
    expect(await everything()).toEqual(before);
    // A header naming B is ignored: the report lands on A.
    const res = await api.request("POST", URL, { token, body: statusReport({ agentVersion: "via-header" }), headers: { "x-environment-id": envs.b.id } });
    expect(res.status).toBe(204);
    const after = await everything();
    expect(after.a.status).toMatchObject({ agentVersion: "via-header" });
    expect(after.b).toEqual(before.b);
    expect(after.c).toEqual(before.c);
  });
});
