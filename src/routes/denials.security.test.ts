// The denial routes: bad credentials refused everywhere, every role reads, no tenant sees another's
// denials, environments or counts; the agent route takes agent credentials only, and a credential
// only ever files denials under its own environment.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admissionEvent, badAgentCredentials, createAgentCredential, type BadAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { ROLES } from "../app/env.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const SOME_ID = "00000000-0000-4000-8000-000000000000";
const ENDPOINTS = ["/v1/denials", `/v1/denials/${SOME_ID}`, "/v1/denials/summary", `/v1/environments/${SOME_ID}/denials/summary`];
const bad = await badCredentials("den-sec");

describe.each(backends())("denial routes: security ($name)", (backend) => {
  let api: TestApi;
  let theirs: { envId: string; otherEnvId: string; denialId: string; cursor: string; agent: string };
  let badAgent: BadAgentCredential[];
  beforeAll(async () => {
    api = await createTestApi(backend);
    await api.tenantId("den-sec");
    const env = await createEnvironment(api, "den-acme", { name: "prod" });
    const otherEnv = await createEnvironment(api, "den-acme", { name: "staging" });
    const agent = (await createAgentCredential(api, "den-acme", env.id)).secret;
    const events = [admissionEvent(), admissionEvent({ uid: "second", owner: { kind: "Deployment", name: "other" } })];
    expect((await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body: { events } })).status).toBe(200);
    const page = await json(await api.call(routeDefs.denials.list, "/v1/denials?limit=1", { token: await api.token("den-acme", "viewer") }));
    theirs = { envId: env.id, otherEnvId: otherEnv.id, denialId: page.items[0]!.id, cursor: page.nextCursor!, agent };
    badAgent = await badAgentCredentials(api, "den-acme", env.id);
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name on every endpoint", async ({ headers, detail }) => {
    for (const path of ENDPOINTS) expect((await expectProblem(await api.request("GET", path, { headers }), 401)).detail, path).toMatch(detail);
  });

  it.each(ROLES)("role %s (JWT and API key) may read every endpoint", async (role) => {
    for (const token of [await api.token("den-sec", role), await api.apiKey("den-sec", role)]) {
      for (const path of ENDPOINTS) expect((await api.request("GET", path, { token })).status, path).toBeOneOf([200, 404]);
    }
  });

  it("another tenant sees none of acme's denials or environments: lists empty, ids 404, cursor 400", async () => {
    for (const token of [await api.token("den-other", "admin"), await api.apiKey("den-other", "admin")]) {
      expect((await json(await api.call(routeDefs.denials.list, "/v1/denials", { token }))).items).toEqual([]);
      expect((await json(await api.call(routeDefs.denials.list, `/v1/denials?environment=${theirs.envId}`, { token }))).items).toEqual([]);
      expect((await json(await api.call(routeDefs.denials.summary, `/v1/denials/summary?environment=${theirs.envId}`, { token }))).groups).toEqual([]);
      await expectProblem(await api.request("GET", `/v1/denials/${theirs.denialId}`, { token }), 404);
      await expectProblem(await api.request("GET", `/v1/environments/${theirs.envId}/denials/summary`, { token }), 404);
      await expectProblem(await api.request("GET", `/v1/denials?cursor=${theirs.cursor}`, { token }), 400);
    }
    expect((await api.request("GET", `/v1/denials/${theirs.denialId}`, { token: await api.token("den-acme", "viewer") })).status).toBe(200);
  });

  it("the agent route refuses every credential but a live agent credential, and writes nothing then", async () => {
    const count = async () =>
      (await json(await api.call(routeDefs.denials.list, "/v1/denials?limit=100", { token: await api.token("den-acme", "viewer") }))).items.length;
    const before = await count();
    const body = { events: [admissionEvent({ uid: "forged", owner: { kind: "Deployment", name: "forged" } })] };
    for (const { name, headers, detail } of badAgent) {
      expect((await expectProblem(await api.request("POST", AGENT_PATHS.admissionEvents, { headers, body }), 401)).detail, name).toMatch(detail);
    }
    expect(await count()).toBe(before);
  });

  it("a credential files denials under its own environment only, whatever the body says", async () => {
    const body = { events: [admissionEvent({ uid: "own", owner: { kind: "Deployment", name: "own" } })] };
    expect((await api.request("POST", `${AGENT_PATHS.admissionEvents}?environment=${theirs.otherEnvId}`, { token: theirs.agent, body })).status).toBe(400);
    expect((await api.request("POST", AGENT_PATHS.admissionEvents, { token: theirs.agent, body })).status).toBe(200);
    const viewer = await api.token("den-acme", "viewer");
    expect((await json(await api.call(routeDefs.denials.list, `/v1/denials?environment=${theirs.otherEnvId}`, { token: viewer }))).items).toEqual([]);
    expect((await json(await api.call(routeDefs.denials.list, `/v1/denials?environment=${theirs.envId}&workload=own`, { token: viewer }))).items).toHaveLength(
      1,
    );
  });
});
