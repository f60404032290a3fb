// Rollout plans refused: a bad body (problem+json naming the field), a control that cannot be
// planned (not enabled, already strict enough, already planned), a plan that is not active, an
// unknown or malformed id — each with nothing written.
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, snapshot } from "../../test/harness/fixtures.ts";
import { rolloutPlans } from "../db/schema.ts";
import { MAX_PLANS, runRolloutPass } from "../services/rollouts.ts";
import * as routes from "../../test/harness/routes.ts";

const T = "ro-errors";
const DRYRUN = { controls: { privilegedContainers: { enabled: true, enforcementAction: "dryrun" as const } } };
const warnStep = { to: "warn", when: { cleanForSeconds: 60 } };

describe.each(backends())("rollout plan errors ($name)", (backend) => {
  let api: TestApi;
  let editor: string;
  let envId: string;
  let base: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    editor = await api.token(T, "editor");
    envId = (await createEnvironment(api, T, { name: "prod", settings: DRYRUN })).id;
    base = `/v1/environments/${envId}/rollouts`;
  });
  afterAll(() => api?.close());

  const state = async () => {
    const tenantId = await api.tenantId(T);
    const [n] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(rolloutPlans).where(eq(rolloutPlans.environmentId, envId)));
    return { ...(await snapshot(api, T, envId)), plans: n?.n ?? 0 };
  };

  it.each([
    ["no control", { steps: [warnStep] }, "control"],
    ["an unknown control", { control: "noSuchControl", steps: [warnStep] }, "control"],
    ["no steps", { control: "privilegedContainers", steps: [] }, "steps"],
    ["three steps", { control: "privilegedContainers", steps: [warnStep, warnStep, warnStep] }, "steps"],
    ["a step to dryrun", { control: "privilegedContainers", steps: [{ to: "dryrun", when: { manual: true } }] }, "steps[0].to"],
    ["steps not getting stricter", { control: "privilegedContainers", steps: [{ to: "deny", when: { manual: true } }, warnStep] }, "steps[1].to"],
    ["a clean window of 0 s", { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 0 } }] }, "steps[0].when"],
    ["a fractional clean window", { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 1.5 } }] }, "steps[0].when"],
    ["two conditions in one step", { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 60, manual: true } }] }, "steps[0].when"],
    ["a time without a zone", { control: "privilegedContainers", steps: [{ to: "warn", when: { at: "2030-01-01 10:00" } }] }, "steps[0].when"],
    ["manual: false", { control: "privilegedContainers", steps: [{ to: "warn", when: { manual: false } }] }, "steps[0].when"],
    ["an unknown field", { control: "privilegedContainers", steps: [warnStep], extra: 1 }, "(root)"],
  ])("400 for %s, naming %s, nothing written", async (_, body, path) => {
    const before = await state();
    const p = await expectProblem(await api.request("POST", base, { token: editor, body }), 400);
    const paths = (p.errors as { path: string }[]).map((e) => e.path);
    expect(
      paths.some((x) => x === path || x.startsWith(`${path}.`)),
      paths.join(", "),
    ).toBe(true);
    expect(await state()).toEqual(before);
  });

  it("400 for a body that is not JSON, and 415 for another content type", async () => {
    await expectProblem(await api.request("POST", base, { token: editor, body: "{not json" }), 400);
    await expectProblem(
      await api.request("POST", base, { token: editor, body: "control=x", headers: { "content-type": "application/x-www-form-urlencoded" } }),
      415,
    );
  });

  it("409 for a control that is not enabled, or already at the first step's action", async () => {
    const before = await state();
    expect((await expectProblem(await api.request("POST", base, { token: editor, body: { control: "seccomp", steps: [warnStep] } }), 409)).detail).toMatch(
      /seccomp is not enabled/,
    );
    const deny = await createEnvironment(api, T, { name: "denying", settings: { controls: { privilegedContainers: { enabled: true } } } });
    const p = await expectProblem(
      await api.request("POST", `/v1/environments/${deny.id}/rollouts`, {
        token: editor,
        body: { control: "privilegedContainers", steps: [{ to: "deny", when: { manual: true } }] },
      }),
      409,
    );
    expect(p.detail).toMatch(/already at deny/);
    expect(await state()).toEqual(before);
  });

  it("409 for a second active plan of the same control; 409 to cancel or advance a plan that is not active", async () => {
    const res = await api.request("POST", base, { token: editor, body: { control: "privilegedContainers", steps: [warnStep] } });
    expect(res.status).toBe(201);
    const plan = await json<ResponseBodyOf<typeof routes.rollouts.createPlanRoute>>(res);
    const before = await state();
    expect(
      (await expectProblem(await api.request("POST", base, { token: editor, body: { control: "privilegedContainers", steps: [warnStep] } }), 409)).detail,
    ).toMatch(/already has an active rollout plan/);
    expect(await state()).toEqual(before);
    expect((await api.request("POST", `${base}/${plan.id}/cancel`, { token: editor })).status).toBe(200);
    const cancelled = await state();
    expect((await expectProblem(await api.request("POST", `${base}/${plan.id}/cancel`, { token: editor }), 409)).detail).toBe(
      `Rollout plan ${plan.id} is cancelled.`,
    );
    await expectProblem(await api.request("POST", `${base}/${plan.id}/advance`, { token: editor }), 409);
    expect(await state()).toEqual(cancelled);
  });

  it("409 to advance when the control was disabled meanwhile, nothing written", async () => {
    const env = await createEnvironment(api, T, { name: "disabling", settings: DRYRUN });
    const b = `/v1/environments/${env.id}/rollouts` as const;
    const plan = await json(
      await api.call(routes.rollouts.createPlanRoute, b, { token: editor, body: { control: "privilegedContainers", steps: [warnStep] } }),
    );
    const off = await api.request("PATCH", `/v1/environments/${env.id}/settings/controls/privilegedContainers`, { token: editor, body: { enabled: false } });
    expect(off.status, await off.clone().text()).toBe(200);
    const before = await snapshot(api, T, env.id);
    expect((await expectProblem(await api.request("POST", `${b}/${plan.id}/advance`, { token: editor }), 409)).detail).toMatch(/not enabled/);
    expect(await snapshot(api, T, env.id)).toEqual(before);
    // And the plan says why it waits.
    const p = await json(await api.call(routes.rollouts.getRoute, `${b}/${plan.id}`, { token: editor }));
    expect(p.next!.waiting[0]).toMatch(/^privilegedContainers is not enabled in the current revision/);
  });

  it("a step at a time past waits, and says why, when the control was disabled meanwhile (no failed pass)", async () => {
    const env = await createEnvironment(api, T, { name: "disabled-at", settings: DRYRUN });
    const b = `/v1/environments/${env.id}/rollouts` as const;
    const plan = await json(
      await api.call(routes.rollouts.createPlanRoute, b, {
        token: editor,
        body: { control: "privilegedContainers", steps: [{ to: "warn", when: { at: "2020-01-01T00:00:00Z" } }] },
      }),
    );
    expect(
      (await api.request("PATCH", `/v1/environments/${env.id}/settings/controls/privilegedContainers`, { token: editor, body: { enabled: false } })).status,
    ).toBe(200);
    const before = await snapshot(api, T, env.id);
    expect(await runRolloutPass({ db: api.db, now: () => new Date(), pollIntervalSeconds: 30 })).toMatchObject({ failed: 0 });
    expect(await snapshot(api, T, env.id)).toEqual(before);
    const p = await json(await api.call(routes.rollouts.getRoute, `${b}/${plan.id}`, { token: editor }));
    expect(p).toMatchObject({ state: "active", next: { due: false, evidenceMissing: true } });
    expect(p.next!.waiting).toEqual([expect.stringMatching(/^privilegedContainers is not enabled in the current revision \(2\)/)]);
  });

  it(`an environment keeps its active plans and the newest finished ones, ${MAX_PLANS} in all`, async () => {
    const env = await createEnvironment(api, T, { name: "churn", settings: DRYRUN });
    const b = `/v1/environments/${env.id}/rollouts` as const;
    const ids: string[] = [];
    for (let i = 0; i < MAX_PLANS + 2; i++) {
      const plan = await json(
        await api.call(routes.rollouts.createPlanRoute, b, { token: editor, body: { control: "privilegedContainers", steps: [warnStep] } }),
      );
      ids.push(plan.id);
      if (i < MAX_PLANS + 1) expect((await api.request("POST", `${b}/${plan.id}/cancel`, { token: editor })).status).toBe(200);
    }
    const list = (await json(await api.call(routes.rollouts.listRoute, b, { token: editor }))).items.map((p: { id: string }) => p.id);
    expect(list).toEqual(ids.slice(-MAX_PLANS).reverse());
    const tenantId = await api.tenantId(T);
    const [n] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(rolloutPlans).where(eq(rolloutPlans.environmentId, env.id)));
    expect(n?.n).toBe(MAX_PLANS);
  });

  it("404 for an unknown plan or environment; 400 naming a malformed id", async () => {
    const unknown = "5b0e4c1d-2a3f-4e6b-8c7d-9e0f1a2b3c4d";
    await expectProblem(await api.request("GET", `${base}/${unknown}`, { token: editor }), 404);
    await expectProblem(await api.request("POST", `${base}/${unknown}/advance`, { token: editor }), 404);
    await expectProblem(await api.request("GET", `/v1/environments/${unknown}/rollouts`, { token: editor }), 404);
    await expectProblem(
      await api.request("POST", `/v1/environments/${unknown}/rollouts`, { token: editor, body: { control: "privilegedContainers", steps: [warnStep] } }),
      404,
    );
    const bad = await expectProblem(await api.request("GET", `${base}/not-a-uuid`, { token: editor }), 400);
    expect((bad.errors as { path: string }[]).map((e) => e.path)).toContain("planId");
  });
});
