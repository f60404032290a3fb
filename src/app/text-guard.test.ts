// Text PostgreSQL cannot store (U+0000; an unpaired surrogate, which the driver would silently
// turn into U+FFFD) is a 400 naming the field on every kind of route, never a 500, and nothing is
// written. Found by sending it: environment descriptions, agent status and audit reports were 500s.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, statusReport, violation } from "../../test/harness/agent-api.ts";
import { expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import type { EnvJson } from "../../test/harness/environments.ts";
import { openGuardBed, tenantRows } from "../../test/harness/guard-bed.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { maxNesting } from "./text-guard.ts";

const T = "text-guard";
const NUL = "a\u0000b";
/** A JSON text with an unpaired surrogate escape (JSON.stringify never writes one). */
const loneSurrogate = (json: string, marker: string) => json.replace(marker, "x\\ud800y");

describe.each(backends())("unstorable text ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let admin: string;
  let agent: string;
  beforeAll(async () => {
    ({ api, env, admin, agent } = await openGuardBed(backend, T));
  });
  afterAll(() => api?.close());

  /** Every row of the tenant that these requests could write. */
  const snapshot = () =>
    tenantRows(api, T, ["environments", "settings_revisions", "api_keys", "webhook_endpoints", "agent_status", "audit_reports", "violations"]);

  const report = auditReport();
  const cases: [string, () => Promise<Response>, string, string][] = [
    ["environment name", () => api.request("POST", "/v1/environments", { token: admin, body: { name: NUL } }), "The request body is invalid.", "name"],
    [
      "environment description",
      () => api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body: { description: NUL } }),
      "The request body is invalid.",
      "description",
    ],
    [
      "a label key",
      () => api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body: { labels: { [NUL]: "x" } } }),
      "The request body is invalid.",
      `labels.${NUL}`,
    ],
    ["API key name", () => api.request("POST", "/v1/api-keys", { token: admin, body: { name: NUL, role: "viewer" } }), "The request body is invalid.", "name"],
    [
      "webhook description",
      () => api.request("POST", "/v1/webhooks", { token: admin, body: { url: "https://hooks.example.com/x", events: ["violation.opened"], description: NUL } }),
      "The request body is invalid.",
      "description",
    ],
    [
      "agent status error",
      () => api.request("POST", AGENT_PATHS.status, { token: agent, body: { ...statusReport(), error: NUL } }),
      "The request body is invalid.",
      "error",
    ],
    [
      "audit report message",
      () =>
        api.request("POST", AGENT_PATHS.auditReport, {
          token: agent,
          body: { ...report, constraints: [{ ...constraintAudit({}, 0), violations: [violation(1, { message: NUL })] }] },
        }),
      "The request body is invalid.",
      "constraints[0].violations[0].message",
    ],
    [
      "an unpaired surrogate in an audit report",
      () =>
        api.request("POST", AGENT_PATHS.auditReport, {
          token: agent,
          body: loneSurrogate(
            JSON.stringify({ ...report, constraints: [{ ...constraintAudit({}, 0), violations: [violation(1, { name: "MARK" })] }] }),
            "MARK",
          ),
        }),
      "The request body is invalid.",
      "constraints[0].violations[0].name",
    ],
    [
      "a query parameter",
      () => api.request("GET", `/v1/violations?namespace=${encodeURIComponent(NUL)}`, { token: admin }),
      "The query string is invalid.",
      "namespace",
    ],
  ];

  it.each(cases)("%s → 400 naming it; nothing written", async (_what, send, detail, path) => {
    const before = await snapshot();
    const problem = await expectProblem(await send(), 400);
    expect(problem.detail).toBe(detail);
    expect(problem.errors).toEqual([{ path, message: expect.stringContaining("U+0000") }]);
    expect(await snapshot()).toEqual(before);
  });

  it("the same text without the bad character is accepted (the guard refuses only what it names)", async () => {
    const res = await api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body: { description: "a b ✓ 𝄞" } });
    expect(res.status, await res.clone().text()).toBe(200);
    expect(((await res.json()) as { description: string }).description).toBe("a b ✓ 𝄞");
  });

  it("checks only after authentication: a missing credential is still a 401", async () => {
    await expectProblem(await api.request("PATCH", `/v1/environments/${env.id}`, { body: { description: NUL } }), 401);
    await expectProblem(await api.request("POST", AGENT_PATHS.status, { body: { ...statusReport(), error: NUL } }), 401);
  });
});

describe("maxNesting (the guard's scan that lets a body without \\u escapes skip the walk)", () => {
  const nest = (n: number) => "[".repeat(n) + "]".repeat(n);
  it("is the depth of the deepest object or array, the outermost being 1", () => {
    expect(maxNesting("1")).toBe(0);
    expect(maxNesting("{}")).toBe(1);
    expect(maxNesting('{"a":[{"b":[]}],"c":{}}')).toBe(4);
    expect(maxNesting(nest(65))).toBe(65);
    expect(maxNesting(JSON.stringify({ a: [1, [2, [3]]], b: [[[[[]]]]] }))).toBe(6);
  });
  it("does not count brackets or quotes inside strings, escaped ones included", () => {
    expect(maxNesting(JSON.stringify({ s: "[[[{{{" }))).toBe(1);
    expect(maxNesting(JSON.stringify({ s: 'a"[[["b', t: "\\", u: ["]]]"] }))).toBe(2);
    expect(maxNesting(JSON.stringify(["\\\\[", '\\"{']))).toBe(1);
  });
  it("agrees with a walk of the parsed value on random documents", () => {
    const depthOf = (v: unknown): number => (v && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0);
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const gen = (d: number): unknown => {
      const k = rnd(d > 6 ? 3 : 6);
      if (k === 0) return rnd(100);
      if (k === 1) return ["[", "]", "{", "}", '"', "\\", "\\u0000"][rnd(7)]!.repeat(rnd(3) + 1);
      if (k === 2) return null;
      if (k === 3 || k === 4) return Array.from({ length: rnd(4) }, () => gen(d + 1));
      return Object.fromEntries(Array.from({ length: rnd(4) }, (_, i) => [`k${i}]"{`, gen(d + 1)]));
    };
    for (let i = 0; i < 300; i++) {
      const v = gen(0);
      expect(maxNesting(JSON.stringify(v))).toBe(depthOf(v));
    }
  });
});
