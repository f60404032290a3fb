// GET /agent/v1/desired-state refusals: a deleted environment, parameters (none are taken),
// conditional requests that do not match, and paths the agent API does not have. (The credential
// and the environment are read in one statement, so the environment cannot vanish in between.)
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.desiredState;

describe.each(backends())("GET /agent/v1/desired-state errors ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  it("the environment deleted → 401: the credential is gone with it", async () => {
    const env = await createEnvironment(api, "adse-gone", { name: "prod" });
    const { secret } = await createAgentCredential(api, "adse-gone", env.id);
    expect((await api.request("GET", URL, { token: secret })).status).toBe(200);
    const del = await api.request("DELETE", `/v1/environments/${env.id}`, { token: await api.token("adse-gone", "admin") });
    expect(del.status).toBe(204);
    expect((await expectProblem(await api.request("GET", URL, { token: secret }), 401)).detail).toMatch(/not valid/);
  });

  it("any query parameter → 400 naming it: the credential alone names the environment", async () => {
    const env = await createEnvironment(api, "adse-query", { name: "prod" });
    const { secret } = await createAgentCredential(api, "adse-query", env.id);
    for (const q of [`environmentId=${env.id}`, "revision=1", "format=yaml"]) {
      const problem = await expectProblem(await api.request("GET", `${URL}?${q}`, { token: secret }), 400);
      expect(problem.errors?.[0]).toMatchObject({ path: "(root)", message: expect.stringContaining(q.split("=")[0]!) });
    }
  });

  it("a stale, malformed or foreign If-None-Match → 200 with the body", async () => {
    const env = await createEnvironment(api, "adse-inm", { name: "prod" });
    const { secret } = await createAgentCredential(api, "adse-inm", env.id);
    for (const inm of ['"1"', '"0-0000000000000000"', "garbage", '""', "W/", ","]) {
      const res = await api.call(routes.agentDesiredState.route, URL, { token: secret, headers: { "if-none-match": inm } });
      expect(res.status, inm).toBe(200);
      expect((await json(res)).environmentId).toBe(env.id);
    }
  });

  it("other methods and unknown agent paths → 401 without a credential, 404 with one", async () => {
    const env = await createEnvironment(api, "adse-paths", { name: "prod" });
    const { secret } = await createAgentCredential(api, "adse-paths", env.id);
    for (const [method, path] of [
      ["POST", URL],
      ["PUT", URL],
      ["DELETE", URL],
      ["GET", `${URL}/`],
      ["GET", "/agent/v1/nope"],
      ["GET", `/agent/v1/environments/${env.id}/desired-state`],
      ["GET", AGENT_PATHS.status],
    ] as const) {
      await expectProblem(await api.request(method, path), 401);
      await expectProblem(await api.request(method, path, { token: secret }), 404);
    }
  });
});
