// Every rollout-plan route refuses bad credentials, enforces its minimum role (viewers read,
// editors plan, cancel and advance), and never shows or changes another tenant's plans (404, as
// for an id that does not exist), with nothing written when it refuses.
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, snapshot } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import { rolloutPlans } from "../db/schema.ts";
import * as routes from "../../test/harness/routes.ts";

const OWNER = "acme-rollsec";
const OTHER = "other-rollsec";
const bad = await badCredentials(OWNER);
const DRYRUN = { controls: { privilegedContainers: { enabled: true, enforcementAction: "dryrun" as const } } };
const PLAN = { control: "privilegedContainers", steps: [{ to: "warn", when: { manual: true } }] };

type Case = { method: string; path: (env: string, plan: string) => string; min: Role; ok: number; body?: unknown };
const one = (env: string, plan: string) => `/v1/environments/${env}/rollouts/${plan}` as const;
const ROUTES: Case[] = [
  { method: "GET", path: (e) => `/v1/environments/${e}/rollouts`, min: "viewer", ok: 200 },
  { method: "GET", path: one, min: "viewer", ok: 200 },
  { method: "POST", path: (e) => `/v1/environments/${e}/rollouts`, min: "editor", ok: 201, body: PLAN },
  { method: "POST", path: (e, p) => `${one(e, p)}/cancel`, min: "editor", ok: 200 },
  { method: "POST", path: (e, p) => `${one(e, p)}/advance`, min: "editor", ok: 200 },
];
const cases = ROUTES.map((r) => ({ ...r, name: `${r.method} ${r.path("{id}", "{planId}")}` }));

describe.each(backends())("rollout plans security ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  let envId: string;
  /** A fresh environment with an active plan (each plan is consumed by cancel / advance / a second create). */
  const fresh = async (tenant = OWNER) => {
    const env = (await createEnvironment(api, tenant, { name: `prod-${Math.random().toString(36).slice(2, 8)}`, settings: DRYRUN })).id;
    const res = await api.call(routes.rollouts.createPlanRoute, `/v1/environments/${env}/rollouts`, { token: await api.token(tenant, "editor"), body: PLAN });
    expect(res.status, await res.clone().text()).toBe(201);
    return { env, plan: (await json(res)).id as string };
  };
  const state = async (env: string) => {
    const tenantId = await api.tenantId(OWNER);
    const rows = await api.db.withTenant(tenantId, (tx) => tx.select().from(rolloutPlans).where(eq(rolloutPlans.environmentId, env)));
    return { ...(await snapshot(api, OWNER, env)), plans: rows.map((r) => [r.id, r.state, r.nextStep]) };
  };
  // A create on an environment that has its plan already is 409; creates get one without.
  const target = async (method: string, path: Case["path"]) => {
    const f = await fresh();
    if (method === "POST" && path("E", "P").endsWith("/rollouts")) {
      envId = (await createEnvironment(api, OWNER, { name: `bare-${Math.random().toString(36).slice(2, 8)}`, settings: DRYRUN })).id;
      return { env: envId, plan: f.plan };
    }
    return f;
  };

  describe.each(cases)("$name", ({ method, path, min, ok, body }) => {
    it.each(bad)("401 for $name, nothing written", async ({ headers, detail }) => {
      const t = await target(method, path);
      const before = await state(t.env);
      const res = await api.request(method, path(t.env, t.plan), { headers, body });
      expect((await expectProblem(res, 401)).detail).toMatch(detail);
      expect(await state(t.env)).toEqual(before);
    });

    it("401 for a revoked API key", async () => {
      const t = await target(method, path);
      await expectProblem(await api.request(method, path(t.env, t.plan), { token: await api.apiKey(OWNER, "admin", { revoked: true }), body }), 401);
    });

    it.each(ROLES)(`role %s: ${min} or above → allowed, below → 403 and nothing written`, async (role) => {
      const t = await target(method, path);
      const before = await state(t.env);
      const res = await api.request(method, path(t.env, t.plan), { token: await api.token(OWNER, role), body });
      if (hasRole({ role } as never, min)) {
        expect(res.status, await res.clone().text()).toBe(ok);
      } else {
        await expectProblem(res, 403);
        expect(await state(t.env)).toEqual(before);
      }
    });

    it("another tenant's admin gets 404, indistinguishable from an unknown id, and nothing changes", async () => {
      const t = await target(method, path);
      const owner = await api.token(OWNER, "viewer");
      const seen = await json(await api.call(routes.rollouts.getRoute, one(t.env, t.plan), { token: owner }));
      const before = await state(t.env);
      const intruder = await api.token(OTHER, "admin");
      // The intruder has an environment and a plan of its own, so RLS is not hiding an empty tenant.
      const own = await fresh(OTHER);
      const theirs = await expectProblem(await api.request(method, path(t.env, t.plan), { token: intruder, body }), 404);
      const unknown = "5b0e4c1d-2a3f-4e6b-8c7d-9e0f1a2b3c4d";
      const none = await expectProblem(await api.request(method, path(unknown, unknown), { token: intruder, body }), 404);
      expect(theirs.detail.replace(t.env, "ID").replace(t.plan, "PLAN")).toBe(none.detail.replace(unknown, "ID").replace(unknown, "PLAN"));
      // Their own environment with the owner's plan id: still 404.
      if (path("E", "P").includes("P")) await expectProblem(await api.request(method, path(own.env, t.plan), { token: intruder, body }), 404);
      expect(await state(t.env)).toEqual(before);
      expect(await json(await api.call(routes.rollouts.getRoute, one(t.env, t.plan), { token: owner }))).toEqual(seen);
      // And the owner cannot reach the intruder's plan either.
      if (path("E", "P").includes("P"))
        await expectProblem(await api.request(method, path(own.env, own.plan), { token: await api.token(OWNER, "admin"), body }), 404);
    });
  });

  it("row-level security: inside another tenant's scope a plan does not exist", async () => {
    const mine = await fresh();
    const tenantId = await api.tenantId(OWNER);
    const other = await api.tenantId(OTHER);
    // RLS: inside the other tenant's scope the owner's plan does not exist.
    const [seen] = await api.db.withTenant(other, (tx) => tx.select({ n: count() }).from(rolloutPlans).where(eq(rolloutPlans.id, mine.plan)));
    expect(seen?.n).toBe(0);
    const [own] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(rolloutPlans).where(eq(rolloutPlans.id, mine.plan)));
    expect(own?.n).toBe(1);
  });
});
