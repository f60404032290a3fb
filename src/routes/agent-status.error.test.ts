// POST /agent/v1/status refusals: every malformed report is a 400 naming each bad field, a body
// over the limit a 413, and none of them writes anything (status row and audit log unchanged).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, createAgentCredential, statusReport, vanishingBackend } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

const URL = AGENT_PATHS.status;
const T = "aste-errors";
const valid = statusReport();
const object0 = valid.objects[0]!;
const template0 = valid.templates[0]!;
const long = (n: number) => "x".repeat(n);

// [what, body, the errors paths it must name]
const BAD: [string, unknown, string[]][] = [
  ["unknown top-level field", { ...valid, environmentId: "00000000-0000-4000-8000-000000000000" }, ["(root)"]],
  ["unknown field in gatekeeper", { ...valid, gatekeeper: { ...valid.gatekeeper, namespace: "x" } }, ["gatekeeper"]],
  ["unknown field in an object result", { ...valid, objects: [{ ...object0, uid: "x" }] }, ["objects[0]"]],
  ["unknown field in a template", { ...valid, templates: [{ ...template0, status: {} }] }, ["templates[0]"]],
  [
    "unknown field in a template error",
    { ...valid, templates: [{ ...template0, errors: [{ pod: "p", code: "c", message: "m", line: 3 }] }] },
    ["templates[0].errors[0]"],
  ],
  ["missing agentVersion", (({ agentVersion: _, ...r }) => r)(valid), ["agentVersion"]],
  ["agentVersion too long", { ...valid, agentVersion: long(101) }, ["agentVersion"]],
  ["kubernetesVersion a number", { ...valid, kubernetesVersion: 1.36 }, ["kubernetesVersion"]],
  ["gatekeeper.installed a string", { ...valid, gatekeeper: { installed: "yes", version: null } }, ["gatekeeper.installed"]],
  ["gatekeeper missing", { ...valid, gatekeeper: undefined }, ["gatekeeper"]],
  ["appliedRevision negative", { ...valid, appliedRevision: -1 }, ["appliedRevision"]],
  ["desiredRevision fractional", { ...valid, desiredRevision: 1.5 }, ["desiredRevision"]],
  ["appliedRevision a string", { ...valid, appliedRevision: "1" }, ["appliedRevision"]],
  ["lastSuccessfulSyncAt not a datetime", { ...valid, lastSuccessfulSyncAt: "yesterday" }, ["lastSuccessfulSyncAt"]],
  ["error too long", { ...valid, error: long(4097) }, ["error"]],
  ["objects not an array", { ...valid, objects: {} }, ["objects"]],
  ["object result unknown", { ...valid, objects: [object0, { ...object0, result: "done" }] }, ["objects[1].result"]],
  ["object name empty", { ...valid, objects: [{ ...object0, name: "" }] }, ["objects[0].name"]],
  ["too many objects", { ...valid, objects: Array.from({ length: 1001 }, () => ({ ...object0, apiVersion: "v1" })) }, ["objects"]],
  ["template error without pod", { ...valid, templates: [{ ...template0, errors: [{ code: "c", message: "m" }] }] }, ["templates[0].errors[0].pod"]],
  ["template crdEstablished null", { ...valid, templates: [{ ...template0, crdEstablished: null }] }, ["templates[0].crdEstablished"]],
  [
    "several bad fields at once",
    { ...valid, agentVersion: 3, appliedRevision: -2, objects: [{ ...object0, kind: "" }] },
    ["agentVersion", "appliedRevision", "objects[0].kind"],
  ],
  ["an array", [valid], ["(root)"]],
  ["null", null, ["(root)"]],
];

describe.each(backends())("POST /agent/v1/status errors ($name)", (backend) => {
  const vanishing = vanishingBackend(backend);
  let api: TestApi;
  let env: EnvJson;
  let secret: string;
  beforeAll(async () => {
    // Room for 1,001 object results, so that refusal is the schema's, not the body limit's.
    api = await createTestApi(vanishing.backend, { bodyLimitBytes: 256 * 1024 });
    env = await createEnvironment(api, T, { name: "prod" });
    secret = (await createAgentCredential(api, T, env.id)).secret;
    // A known report to compare against: the clock moves, so any write would change lastSeenAt.
    expect((await api.request("POST", URL, { token: secret, body: valid })).status).toBe(204);
  });
  afterAll(() => api?.close());

  it.each(BAD)("%s → 400 naming the field; nothing written", async (_what, body, paths) => {
    const before = await agentRows(api, env.id);
    const problem = await expectProblem(await api.request("POST", URL, { token: secret, body: JSON.stringify(body) }), 400);
    expect(problem.detail).toBe("The request body is invalid.");
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([...paths].sort());
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("an unknown field is named in the message, wherever it is", async () => {
    const problem = await expectProblem(
      await api.request("POST", URL, { token: secret, body: { ...valid, gatekeeper: { ...valid.gatekeeper, namespace: "x" }, extra: 1 } }),
      400,
    );
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: "(root)", message: expect.stringContaining('"extra"') },
        { path: "gatekeeper", message: expect.stringContaining('"namespace"') },
      ]),
    );
  });

  it("a revision the environment does not have yet → 400 at that field; nothing written", async () => {
    const before = await agentRows(api, env.id);
    for (const [body, paths] of [
      [{ ...valid, appliedRevision: 2 }, ["appliedRevision"]],
      [{ ...valid, desiredRevision: 9 }, ["desiredRevision"]],
      [{ ...valid, appliedRevision: 5, desiredRevision: 5 }, ["appliedRevision", "desiredRevision"]],
    ] as const) {
      const problem = await expectProblem(await api.request("POST", URL, { token: secret, body }), 400);
      expect(problem.errors?.map((e) => e.path)).toEqual(paths);
      expect(problem.errors?.[0]?.message).toMatch(/current revision 1/);
    }
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("malformed JSON, no body, a non-JSON content type, a query parameter → 400/415; nothing written", async () => {
    const before = await agentRows(api, env.id);
    expect((await expectProblem(await api.request("POST", URL, { token: secret, body: '{"agentVersion": "0.1.0",' }), 400)).detail).toMatch(/malformed json/i);
    await expectProblem(await api.request("POST", URL, { token: secret }), 400);
    await expectProblem(await api.request("POST", URL, { token: secret, body: JSON.stringify(valid), headers: { "content-type": "text/plain" } }), 415);
    await expectProblem(
      await api.request("POST", URL, { token: secret, body: "agentVersion=1", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
    );
    const q = await expectProblem(await api.request("POST", `${URL}?environmentId=${env.id}`, { token: secret, body: valid }), 400);
    expect(q.errors?.[0]?.message).toContain("environmentId");
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("a body over BODY_LIMIT_BYTES → 413 (only audit reports get the larger agent limit); nothing written", async () => {
    const before = await agentRows(api, env.id);
    const big = { ...valid, objects: Array.from({ length: 80 }, (_, i) => ({ ...object0, name: `t${i}`, message: long(4000) })) };
    const text = JSON.stringify(big);
    expect(text.length).toBeGreaterThan(api.config.bodyLimitBytes);
    expect(text.length).toBeLessThan(api.config.agent.bodyLimitBytes);
    const problem = await expectProblem(await api.request("POST", URL, { token: secret, body: text }), 413);
    expect(problem.detail).toContain(`${api.config.bodyLimitBytes} bytes`);
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("the environment deleted while the report is posted → 404, nothing written", async () => {
    const gone = await createEnvironment(api, T, { name: "doomed" });
    const cred = await createAgentCredential(api, T, gone.id);
    vanishing.doom(await api.tenantId(T), gone.id);
    expect((await expectProblem(await api.request("POST", URL, { token: cred.secret, body: valid }), 404)).detail).toMatch(/no longer exists/);
    expect(await agentRows(api, gone.id)).toEqual({ status: undefined, report: undefined, audits: [] });
  });
});
