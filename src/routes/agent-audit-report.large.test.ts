// POST /agent/v1/audit-report with a report large enough (> 256 KB) to be decoded, parsed, walked
// and validated in slices (text-guard.ts, json-slices.ts, audit-validate.ts): it is accepted and
// ingested like a small one, and every refusal is the one the whole schema gives — the same 400,
// the same fields in the same order — with nothing written. Sizes, not times, are what matter here.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentRows, auditReport, constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, type EnvJson } from "../../test/harness/environments.ts";
import { fieldIssues } from "../policies/index.ts";
import { AGENT_PATHS, AuditReport } from "../protocol/agent.ts";

const URL = AGENT_PATHS.auditReport;
const T = "aare-large";
const N = 1500;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
/** ~330 KB: a constraint of N violations beside the usual small ones. */
const large = (collectedAt: string): AuditReport => {
  const r = auditReport({ collectedAt });
  return {
    ...r,
    constraints: [...r.constraints, constraintAudit({ kind: "GatehouseHostNamespaces", name: "host-namespaces", control: "host-namespaces" }, N)],
  };
};
const withViolation = (r: AuditReport, i: number, v: unknown): AuditReport => {
  const c = r.constraints[2]!;
  return {
    ...r,
    constraints: [r.constraints[0]!, r.constraints[1]!, { ...c, violations: c.violations.map((x, j) => (j === i ? v : x)) as typeof c.violations }],
  };
};

describe.each(backends())("POST /agent/v1/audit-report, a large report ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let secret: string;
  let first: AuditReport;
  let stored: Awaited<ReturnType<typeof snapshot>>;
  const snapshot = async () => ({
    rows: await agentRows(api, env.id),
    violations: await api.db.asSystem(
      async (tx) =>
        (await tx.execute<{ n: number }>(sql`select count(*)::int as n from violations where environment_id = ${env.id}::uuid and state = 'open'`)).rows[0]!.n,
    ),
  });
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, T, { name: "prod" });
    secret = (await createAgentCredential(api, T, env.id)).secret;
    first = large(ago(120_000));
    expect(JSON.stringify(first).length).toBeGreaterThan(256 * 1024);
    expect((await api.request("POST", URL, { token: secret, body: first })).status).toBe(204);
    stored = await snapshot();
  });
  afterAll(() => api?.close());

  it("is ingested whole: every listed violation open, the report stored as sent", () => {
    expect(stored.violations).toBe(N + 2 + 3);
    expect(stored.rows.report?.report).toEqual(first);
  });

  const v0 = violation(0);
  const cases: [string, (r: AuditReport) => unknown][] = [
    ["a violation deep in the list without a name", (r) => withViolation(r, 1400, (({ name: _, ...v }) => v)(v0))],
    ["an unknown field in the last violation", (r) => withViolation(r, N - 1, { ...v0, uid: "x" })],
    ["bad fields in the envelope, a constraint and a violation at once", (r) => ({ ...withViolation(r, 700, { ...v0, kind: 3 }), collectedAt: 1 })],
    [
      "a constraint's bad field after its violations",
      (r) => ({ ...r, constraints: [...r.constraints.slice(0, 2), { ...r.constraints[2]!, truncated: "no" }] }),
    ],
  ];
  for (const [name, make] of cases) {
    it(`${name}: the whole schema's 400, nothing written`, async () => {
      const body = make(large(ago(60_000)));
      const expected = AuditReport.safeParse(body);
      expect(expected.success).toBe(false);
      const p = await expectProblem(await api.request("POST", URL, { token: secret, body }), 400);
      expect(p.detail).toBe("The request body is invalid.");
      expect(p.errors).toEqual(fieldIssues(expected.error!));
      expect(await snapshot()).toEqual(stored);
    });
  }

  it("malformed JSON: hono's 400, nothing written", async () => {
    const text = JSON.stringify(large(ago(60_000)));
    // Cut short; and a comma between two violations deep in the list dropped.
    const gap = text.indexOf("},{", 200_000);
    for (const bad of [text.slice(0, -1), `${text.slice(0, gap + 1)}${text.slice(gap + 2)}`]) {
      const p = await expectProblem(await api.request("POST", URL, { token: secret, body: bad }), 400);
      expect(p.detail).toBe("Malformed JSON in request body");
    }
    expect(await snapshot()).toEqual(stored);
  });

  it("U+0000 deep in the list: 400 naming the field, nothing written", async () => {
    const body = withViolation(large(ago(60_000)), 1300, { ...v0, message: "a\u0000b" });
    const p = await expectProblem(await api.request("POST", URL, { token: secret, body }), 400);
    expect(p.errors).toEqual([{ path: "constraints[2].violations[1300].message", message: expect.stringContaining("U+0000") }]);
    expect(await snapshot()).toEqual(stored);
  });

  it("a byte that is not UTF-8 near the end: 400, nothing written", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify(withViolation(large(ago(60_000)), N - 2, { ...v0, message: "MARK" })));
    const at = Buffer.from(bytes).indexOf("MARK");
    bytes[at] = 0xff;
    const res = await api.app.request(URL, { method: "POST", headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" }, body: bytes });
    const p = await expectProblem(res, 400);
    expect(p.detail).toBe("The request body is not valid UTF-8.");
    expect(p.errors).toEqual([{ path: `constraints[2].violations[${N - 2}].message`, message: "must be valid UTF-8" }]);
    expect(await snapshot()).toEqual(stored);
  });
});
