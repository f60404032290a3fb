// Violation history end to end: the agent posts audit reports (POST /agent/v1/audit-report), the
// tenant's users read /v1/violations*, and the rows move through their lifecycle.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import type { RouteConfig } from "@hono/zod-openapi";
import { createTestApi, json, type PathOf, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import * as routes from "../../test/harness/routes.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { AGENT_PATHS, type AuditReport, type ConstraintAudit } from "../protocol/agent.ts";

// Reports are collected over the last three days (UTC midnights), so the trend ends today; the
// app's clock is real time (it also validates tokens).
const T0 = Math.floor(Date.now() / 86_400_000) * 86_400_000 - 3 * 86_400_000;
const dayName = (d: number) => new Date(T0 + d * 86_400_000).toISOString().slice(0, 10);
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

/** A privileged-containers constraint listing pods `names` (violation(i) for each i). */
const priv = (ids: number[], o: Partial<ConstraintAudit> = {}) => ({
  ...constraintAudit(o, 0),
  totalViolations: ids.length,
  violations: ids.map((i) => violation(i)),
  ...o,
});
const caps = (ids: number[], o: Partial<ConstraintAudit> = {}) =>
  priv(ids, {
    kind: "GatehouseCapabilities",
    name: "capabilities",
    control: "capabilities",
    enforcementAction: "warn",
    ...o,
    violations: ids.map((i) => violation(i, { enforcementAction: "warn", message: `caps ${i}` })),
  });

describe.each(backends())("violation history ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  async function setup(tenant: string, name = "prod") {
    const env = await createEnvironment(api, tenant, { name });
    const cred = await createAgentCredential(api, tenant, env.id);
    const viewer = await api.token(tenant, "viewer");
    const send = async (minutes: number, constraints: ConstraintAudit[]) => {
      const body: AuditReport = { collectedAt: at(minutes), constraints };
      const res = await api.request("POST", AGENT_PATHS.auditReport, { token: cred.secret, body });
      expect(res.status, await res.clone().text()).toBe(204);
    };
    /** GET on one of the violation routes as the viewer, asserting 200; the body typed by that route. */
    const get = async <R extends RouteConfig>(route: R, path: PathOf<R["path"]> | `${PathOf<R["path"]>}?${string}`) => {
      const res = await api.call(route, path, { token: viewer });
      expect(res.status, await res.clone().text()).toBe(200);
      return json(res);
    };
    const all = async (query = "") =>
      (await get(routes.violations.list, `/v1/violations?environment=${env.id}&limit=100${query}`)).items as {
        id: string;
        state: string;
        resource: { name: string };
        occurrences: number;
        openedAt: string;
        resolvedAt: string | null;
        lastSeenAt: string;
        firstSeenAt: string;
      }[];
    const byName = async () => Object.fromEntries((await all()).map((v) => [`${v.resource.name}`, v]));
    return { env, cred, viewer, send, get, all, byName };
  }

  /** Every history row of the tenant (violations, events, deliveries), to prove a no-op is one. */
  const tables = (tenantId: string) =>
    api.db.withTenant(tenantId, async (tx) => {
      const v = await tx.execute(sql`select * from violations order by id`);
      const e = await tx.execute(sql`select * from violation_events order by id`);
      const d = await tx.execute(sql`select id, event_type from webhook_deliveries order by id`);
      return { v: v.rows, e: e.rows, d: d.rows };
    });

  it("opens, keeps, resolves, reopens (same id, a new occurrence), with the history of each", async () => {
    const s = await setup("vh-life");
    await s.send(0, [priv([1, 2, 3])]);
    let v = await s.byName();
    expect(Object.keys(v).sort()).toEqual(["pod-1", "pod-2", "pod-3"]);
    expect(v["pod-1"]).toMatchObject({
      state: "open",
      firstSeenAt: at(0),
      openedAt: at(0),
      lastSeenAt: at(0),
      resolvedAt: null,
      occurrences: 1,
      control: "privileged-containers",
      enforcementAction: "deny",
      constraint: { kind: "GatehousePrivilegedContainers", name: "privileged-containers" },
      resource: { group: "", version: "v1", kind: "Pod", namespace: "team-1", name: "pod-1" },
    });
    const id1 = v["pod-1"]!.id;

    await s.send(10, [priv([1, 2])]);
    v = await s.byName();
    expect(v["pod-1"]).toMatchObject({ state: "open", openedAt: at(0), lastSeenAt: at(10) });
    expect(v["pod-3"]).toMatchObject({ state: "resolved", resolvedAt: at(10), lastSeenAt: at(0) });

    await s.send(20, [priv([2, 3])]);
    v = await s.byName();
    // Last seen at 10 (a complete audit then listed it), not at 0 when its row was last written.
    expect(v["pod-1"]).toMatchObject({ id: id1, state: "resolved", resolvedAt: at(20), lastSeenAt: at(10) });
    expect(v["pod-3"]).toMatchObject({ state: "open", openedAt: at(20), firstSeenAt: at(0), resolvedAt: null, occurrences: 2 });

    await s.send(30, [priv([1, 2, 3])]);
    const detail = await s.get(routes.violations.get, `/v1/violations/${id1}`);
    expect(detail).toMatchObject({ id: id1, state: "open", occurrences: 2, firstSeenAt: at(0), openedAt: at(30) });
    expect(detail.history).toEqual([
      { type: "opened", at: at(0) },
      { type: "resolved", at: at(20) },
      { type: "opened", at: at(30) },
    ]);
    expect((await s.all()).length).toBe(3);
  });

  it("the same report twice changes nothing; a late, older report changes nothing either", async () => {
    const s = await setup("vh-idem");
    const tenantId = await api.tenantId("vh-idem");
    await s.send(0, [priv([1, 2]), caps([5])]);
    await s.send(10, [priv([1]), caps([5, 6])]);
    const before = await tables(tenantId);
    expect(before.v.length).toBe(4);
    expect(before.e.length).toBe(5); // 4 opened + pod-2 resolved
    await s.send(10, [priv([1]), caps([5, 6])]);
    expect(await tables(tenantId)).toEqual(before);
    await s.send(5, [priv([7, 8, 9])]);
    expect(await tables(tenantId)).toEqual(before);
  });

  it("a constraint switched from deny to warn: the same violations, now warn; no event, no new row", async () => {
    const s = await setup("vh-mode");
    const tenantId = await api.tenantId("vh-mode");
    await s.send(0, [priv([1, 2])]);
    const before = await s.byName();
    const events = (await tables(tenantId)).e.length;
    await s.send(
      10,
      [priv([1, 2], { enforcementAction: "warn" })].map((k) => ({ ...k, violations: k.violations.map((v) => ({ ...v, enforcementAction: "warn" })) })),
    );
    const after = await s.byName();
    for (const n of ["pod-1", "pod-2"]) {
      expect(after[n]).toMatchObject({ id: before[n]!.id, state: "open", enforcementAction: "warn", openedAt: at(0), lastSeenAt: at(10), occurrences: 1 });
    }
    expect((await tables(tenantId)).e.length).toBe(events);
    expect(await s.get(routes.violations.envSummary, `/v1/environments/${s.env.id}/violations/summary`)).toMatchObject({
      open: 2,
      byEnforcementAction: { warn: 2 },
    });
  });

  it("a truncated constraint resolves nothing it could not see; an unaudited one neither; a constraint gone from the report resolves all of its violations", async () => {
    const s = await setup("vh-trunc");
    await s.send(0, [priv([1, 2, 3]), caps([4, 5])]);
    // Gatekeeper now lists only pod-1 of 250: pod-2 and pod-3 may still be there.
    await s.send(10, [priv([1], { totalViolations: 250, truncated: true }), caps([4, 5], { auditTimestamp: null })]);
    let v = await s.byName();
    expect(Object.values(v).every((x) => x.state === "open")).toBe(true);
    expect(v["pod-1"]!.lastSeenAt).toBe(at(10));
    expect(v["pod-2"]!.lastSeenAt).toBe(at(0));
    // Not audited yet, listing nothing: still nothing resolves.
    await s.send(15, [priv([1], { totalViolations: 250, truncated: true }), caps([], { auditTimestamp: null })]);
    expect((await s.all("&state=resolved")).length).toBe(0);
    // The capabilities constraint was pruned (absent), privileged is complete again.
    await s.send(20, [priv([1])]);
    v = await s.byName();
    expect(v["pod-1"]!.state).toBe("open");
    for (const n of ["pod-2", "pod-3", "pod-4", "pod-5"]) expect(v[n], n).toMatchObject({ state: "resolved", resolvedAt: at(20) });
    // An empty report (everything clean) resolves everything.
    await s.send(30, []);
    expect((await s.all("&state=open")).length).toBe(0);
  });

  it("filters (environment, control, namespace, state, enforcementAction, since) and pages with the cursor", async () => {
    const s = await setup("vh-filter");
    const other = await createEnvironment(api, "vh-filter", { name: "staging" });
    const otherCred = await createAgentCredential(api, "vh-filter", other.id);
    await s.send(0, [priv([0, 1, 2, 3, 4, 5, 6, 7]), caps([1, 2])]);
    await s.send(10, [priv([0, 1, 2, 3, 4, 5, 6]), caps([1, 2, 3])]);
    expect((await api.request("POST", AGENT_PATHS.auditReport, { token: otherCred.secret, body: auditReport() })).status).toBe(204);

    const q = async (query: string) =>
      (await s.get(routes.violations.list, `/v1/violations?limit=100&${query}`)).items as {
        resource: { name: string; namespace: string };
        state: string;
        environmentId: string;
        control: string;
        enforcementAction: string;
      }[];
    expect((await q("")).length).toBe(11 + 5);
    expect((await q(`environment=${s.env.id}`)).length).toBe(11);
    expect((await q(`environment=${other.id}`)).every((v) => v.environmentId === other.id)).toBe(true);
    expect((await q(`environment=${s.env.id}&control=capabilities`)).map((v) => v.resource.name).sort()).toEqual(["pod-1", "pod-2", "pod-3"]);
    expect((await q(`environment=${s.env.id}&namespace=team-1`)).map((v) => v.resource.name).sort()).toEqual(["pod-1", "pod-1"]);
    expect((await q(`environment=${s.env.id}&state=resolved`)).map((v) => v.resource.name)).toEqual(["pod-7"]);
    expect((await q(`environment=${s.env.id}&enforcementAction=warn`)).every((v) => v.control === "capabilities")).toBe(true);
    expect((await q(`environment=${s.env.id}&since=${encodeURIComponent(at(5))}`)).map((v) => v.resource.name)).toEqual(["pod-3"]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: ResponseBodyOf<typeof routes.violations.list> = await s.get(
        routes.violations.list,
        `/v1/violations?environment=${s.env.id}&limit=4${cursor ? `&cursor=${cursor}` : ""}`,
      );
      seen.push(...page.items.map((v: { id: string }) => v.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(11);
  });

  it("summaries: an environment's open counts; the fleet's, with the share of compliant environments", async () => {
    const t = "vh-summary";
    const a = await setup(t, "a");
    const b = await setup(t, "b");
    await setup(t, "never-reported");
    const fresh = await a.get(routes.violations.envSummary, `/v1/environments/${a.env.id}/violations/summary`);
    expect(fresh).toEqual({ environmentId: a.env.id, lastReportAt: null, compliant: null, open: 0, byControl: {}, byEnforcementAction: {} });

    await a.send(0, [
      priv([1, 2]),
      caps([3, 4, 5]),
      {
        ...priv([9], { kind: "K8sOther", name: "other", control: null, enforcementAction: "dryrun" }),
        violations: [violation(9, { enforcementAction: "dryrun" })],
      },
    ]);
    await b.send(0, [priv([1])]);
    await b.send(10, [priv([])]);
    expect(await a.get(routes.violations.envSummary, `/v1/environments/${a.env.id}/violations/summary`)).toEqual({
      environmentId: a.env.id,
      lastReportAt: at(0),
      compliant: false,
      open: 6,
      byControl: { "privileged-containers": 2, capabilities: 3, "(none)": 1 },
      byEnforcementAction: { deny: 2, warn: 3, dryrun: 1 },
    });
    expect(await b.get(routes.violations.envSummary, `/v1/environments/${b.env.id}/violations/summary`)).toMatchObject({
      compliant: true,
      open: 0,
      lastReportAt: at(10),
    });
    expect(await a.get(routes.violations.tenantSummary, "/v1/violations/summary")).toEqual({
      open: 6,
      byControl: { "privileged-containers": 2, capabilities: 3, "(none)": 1 },
      byEnforcementAction: { deny: 2, warn: 3, dryrun: 1 },
      environments: { total: 3, reporting: 2, compliant: 1, compliantShare: 0.5 },
    });
  });

  it("trend: daily opened, resolved and open at the end of each day", async () => {
    {
      const s = await setup("vh-trend");
      const day = (d: number, m = 0) => d * 24 * 60 + m;
      await s.send(day(0, 60), [priv([1, 2, 3])]);
      await s.send(day(1, 60), [priv([1, 4])]);
      await s.send(day(1, 120), [priv([1, 4, 5])]);
      await s.send(day(2, 60), [priv([2])]);
      const { days } = await s.get(routes.violations.trend, `/v1/violations/trend?days=5`);
      expect(days).toEqual([
        { date: dayName(-1), opened: 0, resolved: 0, open: 0 },
        { date: dayName(0), opened: 3, resolved: 0, open: 3 },
        { date: dayName(1), opened: 2, resolved: 2, open: 3 },
        { date: dayName(2), opened: 1, resolved: 3, open: 1 },
        { date: dayName(3), opened: 0, resolved: 0, open: 1 },
      ]);
      expect((await s.get(routes.violations.trend, `/v1/violations/trend?days=1&environment=${s.env.id}`)).days).toEqual([
        { date: dayName(3), opened: 0, resolved: 0, open: 1 },
      ]);
    }
  });
});
