// GET /agent/v1/desired-state accepts only a live agent credential, and a credential only ever
// reads its own environment — not another of its tenant, not another tenant's.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { badAgentCredentials, createAgentCredential, type AgentCredentialJson, type BadAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { presets } from "../policies/index.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.desiredState;
const T = "adss-owner";
const OTHER = "adss-other";

describe.each(backends())("GET /agent/v1/desired-state security ($name)", (backend) => {
  let api: TestApi;
  let bad: BadAgentCredential[];
  const envs: Record<"a" | "b" | "c", EnvJson> = {} as never;
  const creds: Record<"a" | "b" | "c", AgentCredentialJson> = {} as never;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envs.a = await createEnvironment(api, T, { name: "env-a", settings: { controls: presets.restricted.controls } });
    envs.b = await createEnvironment(api, T, { name: "env-b", settings: { controls: { seccomp: {} } } });
    envs.c = await createEnvironment(api, OTHER, { name: "env-c", settings: { controls: presets.baseline.controls } });
    creds.a = await createAgentCredential(api, T, envs.a.id);
    creds.b = await createAgentCredential(api, T, envs.b.id);
    creds.c = await createAgentCredential(api, OTHER, envs.c.id);
    bad = await badAgentCredentials(api, T, envs.a.id);
  });
  afterAll(() => api?.close());

  it("401 for every missing, malformed, user, API-key, unknown, forged, revoked or rotated-away credential", async () => {
    expect(bad.length).toBeGreaterThan(20);
    for (const { name, headers, detail } of bad) {
      const res = await api.request("GET", URL, { headers });
      expect((await expectProblem(res, 401)).detail, name).toMatch(detail);
      const challenge = res.headers.get("www-authenticate");
      if (headers.authorization) expect(challenge, name).toBe('Bearer realm="gatehouse", error="invalid_token"');
      else expect(challenge, name).toBe('Bearer realm="gatehouse"');
    }
  });

  it("each credential reads its own environment only: same tenant or not, nothing of the others leaks", async () => {
    const seen: Record<string, string> = {};
    for (const k of ["a", "b", "c"] as const) {
      const res = await api.request("GET", URL, { token: creds[k].secret });
      const text = await res.text();
      expect(res.status).toBe(200);
      const body = JSON.parse(text);
      expect(body).toMatchObject({ environmentId: envs[k].id, environmentName: envs[k].name });
      for (const other of (["a", "b", "c"] as const).filter((o) => o !== k)) {
        expect(text).not.toContain(envs[other].id);
        expect(text).not.toContain(envs[other].name);
      }
      seen[k] = res.headers.get("etag")!;
    }
    // Different settings, different objects.
    expect(new Set(Object.values(seen)).size).toBe(3);
  });

  it("no header, parameter or path points a credential at another environment", async () => {
    const token = creds.a.secret;
    // Headers naming B are ignored: still A.
    const smuggled: Record<string, string>[] = [{ "x-environment-id": envs.b.id }, { "x-tenant": OTHER }, { cookie: `environment=${envs.b.id}` }];
    for (const headers of smuggled) {
      expect((await json(await api.call(routes.agentDesiredState.route, URL, { token, headers }))).environmentId).toBe(envs.a.id);
    }
    await expectProblem(await api.request("GET", `${URL}?environmentId=${envs.b.id}`, { token }), 400);
    await expectProblem(await api.request("GET", `/agent/v1/environments/${envs.b.id}/desired-state`, { token }), 404);
    // Nor can B's ETag be used to learn anything: A answers with its own.
    const b = await api.request("GET", URL, { token: creds.b.secret });
    const res = await api.request("GET", URL, { token, headers: { "if-none-match": b.headers.get("etag")! } });
    expect(res.status).toBe(200);
  });

  it("a user token or API key of any role, even the owner's admin, cannot read it", async () => {
    for (const role of ["viewer", "editor", "admin"] as const) {
      for (const token of [await api.token(T, role), await api.apiKey(T, role)]) {
        expect((await expectProblem(await api.request("GET", URL, { token }), 401)).detail).toMatch(/accepts only agent credentials/);
      }
    }
  });
});
