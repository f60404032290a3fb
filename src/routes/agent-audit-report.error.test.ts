// POST /agent/v1/audit-report refusals: every malformed report is a 400 naming each bad field;
// the body limits (its own, and everyone else's) answer 413; none of them writes anything.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, auditReport, constraintAudit, createAgentCredential, statusReport, vanishingBackend, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

const URL = AGENT_PATHS.auditReport;
const T = "aare-errors";
const valid = auditReport();
const c0 = valid.constraints[0]!;
const v0 = c0.violations[0]!;
const GLOBAL_LIMIT = 64 * 1024;
const AGENT_LIMIT = 256 * 1024;

const BAD: [string, unknown, string[]][] = [
  ["unknown top-level field", { ...valid, environmentId: "x" }, ["(root)"]],
  ["unknown field in a constraint", { ...valid, constraints: [{ ...c0, spec: {} }] }, ["constraints[0]"]],
  ["unknown field in a violation", { ...valid, constraints: [{ ...c0, violations: [{ ...v0, uid: "x" }] }] }, ["constraints[0].violations[0]"]],
  ["missing collectedAt", { constraints: [] }, ["collectedAt"]],
  ["collectedAt not a datetime", { ...valid, collectedAt: "now" }, ["collectedAt"]],
  // Stored, it would have outranked every later report for good (issue 13, item 2).
  ["collectedAt in the far future", { ...valid, collectedAt: "9999-12-31T23:59:59Z" }, ["collectedAt"]],
  ["constraints not an array", { ...valid, constraints: { a: c0 } }, ["constraints"]],
  ["constraint kind empty", { ...valid, constraints: [c0, { ...c0, kind: "" }] }, ["constraints[1].kind"]],
  ["totalViolations negative", { ...valid, constraints: [{ ...c0, totalViolations: -1 }] }, ["constraints[0].totalViolations"]],
  ["totalViolations fractional", { ...valid, constraints: [{ ...c0, totalViolations: 2.5 }] }, ["constraints[0].totalViolations"]],
  ["auditTimestamp not a datetime", { ...valid, constraints: [{ ...c0, auditTimestamp: "yesterday" }] }, ["constraints[0].auditTimestamp"]],
  ["truncated a string", { ...valid, constraints: [{ ...c0, truncated: "no" }] }, ["constraints[0].truncated"]],
  ["control a number", { ...valid, constraints: [{ ...c0, control: 5 }] }, ["constraints[0].control"]],
  ["violation without a name", { ...valid, constraints: [{ ...c0, violations: [v0, (({ name: _, ...v }) => v)(v0)] }] }, ["constraints[0].violations[1].name"]],
  [
    "violation message too long",
    { ...valid, constraints: [{ ...c0, violations: [{ ...v0, message: "m".repeat(8193) }] }] },
    ["constraints[0].violations[0].message"],
  ],
  ["too many constraints", { ...valid, constraints: Array.from({ length: 1001 }, (_, i) => ({ ...c0, name: `c${i}`, violations: [] })) }, ["constraints"]],
  [
    "several bad fields at once",
    { collectedAt: 1, constraints: [{ ...c0, name: "", violations: [{ ...v0, kind: 3 }] }] },
    ["collectedAt", "constraints[0].name", "constraints[0].violations[0].kind"],
  ],
  ["an array", [valid], ["(root)"]],
];

describe.each(backends())("POST /agent/v1/audit-report errors ($name)", (backend) => {
  const vanishing = vanishingBackend(backend);
  let api: TestApi;
  let env: EnvJson;
  let secret: string;
  beforeAll(async () => {
    api = await createTestApi(vanishing.backend, { bodyLimitBytes: GLOBAL_LIMIT, agent: { bodyLimitBytes: AGENT_LIMIT } });
    env = await createEnvironment(api, T, { name: "prod" });
    secret = (await createAgentCredential(api, T, env.id)).secret;
    // A known report to compare against: any write would change receivedAt (the clock moves).
    expect((await api.request("POST", URL, { token: secret, body: valid })).status).toBe(204);
  });
  afterAll(() => api?.close());

  it.each(BAD)("%s → 400 naming the field; nothing written", async (_what, body, paths) => {
    const before = await agentRows(api, env.id);
    const problem = await expectProblem(await api.request("POST", URL, { token: secret, body: JSON.stringify(body) }), 400);
    expect(problem.errors?.map((e) => e.path).sort()).toEqual([...paths].sort());
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("unknown fields are named in the message", async () => {
    const problem = await expectProblem(await api.request("POST", URL, { token: secret, body: { ...valid, history: [] } }), 400);
    expect(problem.errors).toEqual([{ path: "(root)", message: expect.stringContaining('"history"') }]);
  });

  it("totals beyond what is stored (int4) → 400 at constraints, not a 500; nothing written", async () => {
    const before = await agentRows(api, env.id);
    const huge = {
      ...valid,
      constraints: [constraintAudit({ totalViolations: 2_000_000_000 }), constraintAudit({ name: "b", totalViolations: 2_000_000_000 })],
    };
    const problem = await expectProblem(await api.request("POST", URL, { token: secret, body: huge }), 400);
    expect(problem.errors?.map((e) => e.path)).toEqual(["constraints"]);
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("malformed JSON, no body, a non-JSON content type, a query parameter → 400/415; nothing written", async () => {
    const before = await agentRows(api, env.id);
    expect((await expectProblem(await api.request("POST", URL, { token: secret, body: '{"collectedAt":' }), 400)).detail).toMatch(/malformed json/i);
    await expectProblem(await api.request("POST", URL, { token: secret }), 400);
    await expectProblem(await api.request("POST", URL, { token: secret, body: JSON.stringify(valid), headers: { "content-type": "application/yaml" } }), 415);
    await expectProblem(await api.request("POST", `${URL}?replace=false`, { token: secret, body: valid }), 400);
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("its own limit: over BODY_LIMIT_BYTES but under AGENT_BODY_LIMIT_BYTES → 204; over that → 413, with or without content-length", async () => {
    const sized = (violations: number) =>
      JSON.stringify({
        ...valid,
        collectedAt: "2026-02-01T00:00:00.000Z",
        constraints: [constraintAudit({}, 0), { ...c0, totalViolations: violations, violations: Array.from({ length: violations }, (_, i) => violation(i)) }],
      });
    const medium = sized(500);
    expect(medium.length).toBeGreaterThan(GLOBAL_LIMIT);
    expect(medium.length).toBeLessThan(AGENT_LIMIT);
    expect((await api.request("POST", URL, { token: secret, body: medium })).status).toBe(204);
    expect((await agentRows(api, env.id)).report?.totalViolations).toBe(500);

    const before = await agentRows(api, env.id);
    const large = sized(1500);
    expect(large.length).toBeGreaterThan(AGENT_LIMIT);
    expect((await expectProblem(await api.request("POST", URL, { token: secret, body: large }), 413)).detail).toContain(`${AGENT_LIMIT} bytes`);
    const chunks = new TextEncoder().encode(large);
    const stream = new ReadableStream({
      start(ctl) {
        for (let i = 0; i < chunks.length; i += 16_384) ctl.enqueue(chunks.slice(i, i + 16_384));
        ctl.close();
      },
    });
    const chunked = await api.app.request(URL, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    await expectProblem(chunked, 413);
    expect(await agentRows(api, env.id)).toEqual(before);
  });

  it("every other route keeps BODY_LIMIT_BYTES: a status report of the same medium size → 413", async () => {
    const before = await agentRows(api, env.id);
    const body = JSON.stringify({
      ...statusReport(),
      error: null,
      objects: Array.from({ length: 20 }, (_, i) => ({ ...statusReport().objects[0]!, name: `o${i}`, message: "m".repeat(4000) })),
    });
    expect(body.length).toBeGreaterThan(GLOBAL_LIMIT);
    expect((await expectProblem(await api.request("POST", AGENT_PATHS.status, { token: secret, body }), 413)).detail).toContain(`${GLOBAL_LIMIT} bytes`);
    const userBody = JSON.stringify({ name: "big", description: "d".repeat(GLOBAL_LIMIT) });
    await expectProblem(await api.request("POST", "/v1/environments", { token: await api.token(T, "admin"), body: userBody }), 413);
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
