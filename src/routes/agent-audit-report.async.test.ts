// POST /agent/v1/audit-report with Prefer: respond-async (what the agent sends): 202 once the
// report is stored, the violation history updated after the response, to the same end state as
// the synchronous 204; turned away (503) before it is stored when the ingest queue is full; and
// nothing lost when the work after the 202 does not happen — a report left unfinished (the
// process gone) is applied by the resume pass from its stored copy.
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentRows, auditReport, constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import * as routes from "../../test/harness/routes.ts";
import { pino } from "pino";
import { AGENT_PATHS, type AuditReport } from "../protocol/agent.ts";
import { RESUME_AFTER_MS, resumeUnfinished } from "../services/audit-background.ts";
import { storeForLater } from "../services/audit-ingest.ts";
import { prefersAsync } from "./agent-audit-report.ts";

const URL = AGENT_PATHS.auditReport;
const ASYNC = { prefer: "respond-async" };
const log = pino({ level: "silent" });
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const report = (collectedAt: string, ids: number[]): AuditReport => ({
  collectedAt,
  constraints: [{ ...constraintAudit({ auditTimestamp: ago(600_000) }, 0), totalViolations: ids.length, violations: ids.map((i) => violation(i)) }],
});
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe("prefersAsync", () => {
  it("finds respond-async among RFC 7240 preferences, in any case, with or without parameters", () => {
    for (const h of ["respond-async", "Respond-Async", "wait=10, respond-async", "respond-async; x=1", " return=minimal ,respond-async "])
      expect(prefersAsync(h), h).toBe(true);
    for (const h of [undefined, "", "wait=10", "return=minimal", "respond-asynchronously", "x=respond-async"]) expect(prefersAsync(h), String(h)).toBe(false);
  });
});

describe.each(backends())("POST /agent/v1/audit-report, Prefer: respond-async ($name)", (backend) => {
  let api: TestApi;
  // While `hold` is set, a chunked ingest waits after its first chunk (holding its slot, nothing else).
  let hold: { reached: () => void; gate: Promise<void> } | undefined;
  beforeEach(async () => {
    hold = undefined;
    // Chunks of 100 (a 250-violation report is applied in several transactions) and one ingest
    // slot with no queue, so a report arriving while another is applied is left for the resume pass.
    api = await createTestApi(backend, {
      configure: (c) =>
        (c.ingest = {
          chunkSize: 100,
          concurrency: 1,
          queue: 0,
          afterChunk: async () => {
            const h = hold;
            hold = undefined;
            if (h) {
              h.reached();
              await h.gate;
            }
          },
        }),
    });
  });
  afterEach(() => api?.close());

  async function agent(tenant: string) {
    const env = await createEnvironment(api, tenant, { name: "prod" });
    return { env, secret: (await createAgentCredential(api, tenant, env.id)).secret };
  }
  const history = (environmentId: string) =>
    api.db.asSystem(async (tx) => {
      const { rows } = await tx.execute(sql`
        select (select count(*)::int from violations where environment_id = ${environmentId}::uuid and state = 'open') as open,
               (select count(*)::int from violations where environment_id = ${environmentId}::uuid and state = 'resolved') as resolved,
               (select count(*)::int from violation_events where environment_id = ${environmentId}::uuid) as events`);
      return rows[0] as { open: number; resolved: number; events: number };
    });
  const ingested = async (environmentId: string) => (await agentRows(api, environmentId)).report?.ingestedAt ?? null;

  it("answers 202 once stored, readable at once, and applies it after: the end state of a synchronous 204", async () => {
    const a = await agent("async-a");
    const b = await agent("async-b");
    const first = report(ago(120_000), range(250));
    const second = report(ago(60_000), range(250, 40)); // 40 resolve, 40 open
    for (const [r, i] of [
      [first, 0],
      [second, 1],
    ] as const) {
      const res = await api.request("POST", URL, { token: a.secret, body: r, headers: ASYNC });
      expect(res.status, await res.clone().text()).toBe(202);
      expect(res.headers.get("preference-applied")).toBe("respond-async");
      expect(await res.text()).toBe("");
      // Stored before the 202: the environment's users read it already.
      const read = await api.call(routes.environmentAuditReport.route, `/v1/environments/${a.env.id}/audit-report`, {
        token: await api.token("async-a", "viewer"),
      });
      expect((await json(read)).collectedAt).toBe(r.collectedAt);
      await api.deferred.idle();
      expect(await ingested(a.env.id), `report ${i} finished`).not.toBeNull();

      const sync = await api.request("POST", URL, { token: b.secret, body: r });
      expect(sync.status).toBe(204);
    }
    expect(await history(a.env.id)).toEqual({ open: 250, resolved: 40, events: 250 + 40 + 40 });
    expect(await history(a.env.id)).toEqual(await history(b.env.id));
  });

  it("still refuses a bad report (400) and a late retry of an older one changes nothing (202, nothing applied)", async () => {
    const a = await agent("async-bad");
    await expectProblem(await api.request("POST", URL, { token: a.secret, body: { ...auditReport(), extra: 1 }, headers: ASYNC }), 400);
    expect((await agentRows(api, a.env.id)).report).toBeUndefined();

    const newer = report(ago(60_000), range(3));
    expect((await api.request("POST", URL, { token: a.secret, body: newer, headers: ASYNC })).status).toBe(202);
    await api.deferred.idle();
    const older = report(ago(120_000), range(5, 100));
    expect((await api.request("POST", URL, { token: a.secret, body: older, headers: ASYNC })).status).toBe(202);
    await api.deferred.idle();
    expect((await agentRows(api, a.env.id)).report?.collectedAt).toEqual(new Date(newer.collectedAt));
    expect(await history(a.env.id)).toEqual({ open: 3, resolved: 0, events: 3 });
  });

  it("a report arriving while the ingest queue is full is refused 503 with Retry-After before anything is stored; sent again, it is applied", async () => {
    const a = await agent("async-full-a");
    const b = await agent("async-full-b");
    // a's report takes the one slot (held after its first chunk); b's, meanwhile, finds no room.
    let open = () => {};
    const reached = new Promise<void>((r) => (hold = { reached: r, gate: new Promise<void>((g) => (open = g)) }));
    expect((await api.request("POST", URL, { token: a.secret, body: report(ago(1000), range(250)), headers: ASYNC })).status).toBe(202);
    await reached;
    const rb = report(ago(1000), range(30));
    const refused = await expectProblem(await api.request("POST", URL, { token: b.secret, body: rb, headers: ASYNC }), 503);
    expect(refused.detail).toMatch(/Retry-After/);
    expect((await agentRows(api, b.env.id)).report).toBeUndefined();
    open();
    await api.deferred.idle();
    expect(await history(a.env.id)).toMatchObject({ open: 250 });

    expect((await api.request("POST", URL, { token: b.secret, body: rb, headers: ASYNC })).status).toBe(202);
    await api.deferred.idle();
    expect(await history(b.env.id)).toEqual({ open: 30, resolved: 0, events: 30 });
  });

  it("the resume pass applies a report left unfinished once it is RESUME_AFTER_MS old, once", async () => {
    const { env } = await agent("async-left");
    const r = report(ago(1000), range(30));
    const args = { tenantId: await api.tenantId("async-left"), environmentId: env.id, report: r, shadows: [], receivedAt: new Date(), linkBase: "" };
    // As a process that stopped right after the 202: stored, nothing applied.
    expect(await storeForLater(api.db, args)).toBe("pending");
    // Received just now: not yet the resume pass's (an ingest may still be running elsewhere).
    expect(await resumeUnfinished(api.db, { config: api.config.ingest, linkBase: "", log })).toBe(0);
    expect(await ingested(env.id)).toBeNull();
    const later = () => new Date(Date.now() + RESUME_AFTER_MS + 1000);
    expect(await resumeUnfinished(api.db, { config: api.config.ingest, linkBase: "", log, now: later })).toBe(1);
    expect(await ingested(env.id)).not.toBeNull();
    expect(await history(env.id)).toEqual({ open: 30, resolved: 0, events: 30 });
    expect(await resumeUnfinished(api.db, { config: api.config.ingest, linkBase: "", log, now: later })).toBe(0);
    expect(await history(env.id)).toEqual({ open: 30, resolved: 0, events: 30 });
  });

  it("the resume pass leaves alone a report this process is still applying, as a long synchronous ingest", async () => {
    const { env, secret } = await agent("async-busy");
    let open = () => {};
    const reached = new Promise<void>((r) => (hold = { reached: r, gate: new Promise<void>((g) => (open = g)) }));
    // Without the preference: the 204 waits for the whole ingest, held here after its first chunk.
    const posting = api.request("POST", URL, { token: secret, body: report(ago(1000), range(250)) });
    await reached;
    expect(await ingested(env.id)).toBeNull();
    const later = () => new Date(Date.now() + RESUME_AFTER_MS + 1000);
    expect(await resumeUnfinished(api.db, { config: api.config.ingest, linkBase: "", log, now: later })).toBe(0);
    open();
    expect((await posting).status).toBe(204);
    expect(await history(env.id)).toEqual({ open: 250, resolved: 0, events: 250 });
  });

  it("resumes every tenant's unfinished reports, each into its own tenant's history, from the stored copy", async () => {
    const tenants = ["resume-x", "resume-y"];
    const envs = [];
    for (const [i, t] of tenants.entries()) {
      const { env } = await agent(t);
      envs.push(env);
      // As a process that stopped right after the 202: stored, nothing applied.
      const r = report(ago(120_000), range(10 + i, i * 1000));
      const args = { tenantId: await api.tenantId(t), environmentId: env.id, report: r, shadows: [], receivedAt: new Date(Date.now() - 120_000), linkBase: "" };
      expect(await storeForLater(api.db, args)).toBe("pending");
    }
    expect(await resumeUnfinished(api.db, { config: api.config.ingest, linkBase: "", log })).toBe(2);
    expect(await history(envs[0]!.id)).toEqual({ open: 10, resolved: 0, events: 10 });
    expect(await history(envs[1]!.id)).toEqual({ open: 11, resolved: 0, events: 11 });
    const names = await api.db.asSystem(async (tx) => {
      const { rows } = await tx.execute(sql`select distinct tenant_id::text as t, environment_id::text as e from violations order by 1`);
      return rows as { t: string; e: string }[];
    });
    const byEnv = Object.fromEntries(names.map((r) => [r.e, r.t]));
    expect(byEnv[envs[0]!.id]).toBe(await api.tenantId("resume-x"));
    expect(byEnv[envs[1]!.id]).toBe(await api.tenantId("resume-y"));
  });
});
