// Rollout plans as a team uses them, on a clock the test moves: a control in dryrun goes to warn
// once its audit has been clean for the chosen time, waits (and says why) while a violation is
// open or the evidence is missing, then goes to deny; each step is a revision by gatehouse:rollout,
// audited, with a rollout.promoted webhook. Steps at a time and by hand; cancelling.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { admissionEvent, constraintAudit, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment } from "../../test/harness/fixtures.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { ROLLOUT_ACTOR, runRolloutPass } from "../services/rollouts.ts";
import * as routes from "../../test/harness/routes.ts";

/** A rollout plan as the routes answer it (create, get, advance and cancel share the schema). */
type Plan = ResponseBodyOf<typeof routes.rollouts.getRoute>;

const HOUR = 3_600_000;
const DRYRUN = { controls: { privilegedContainers: { enabled: true, enforcementAction: "dryrun" as const } } };

describe.each(backends())("rollout plans ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date("2030-01-01T00:00:00Z");
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, webhooks: { allowHttp: true, allowPrivate: true } });
  });
  afterAll(() => api?.close());

  const tick = (ms: number) => (clock = new Date(clock.getTime() + ms));
  const tokenAt = (t: string, role: "viewer" | "editor" | "admin") => {
    const at = Math.floor(clock.getTime() / 1000);
    return api.token(t, role, { sign: { iat: at, exp: at + 3600 } });
  };
  /** An agent credential, made through the user API at the app's clock. */
  const credential = async (t: string, envId: string) => {
    const res = await api.call(routes.agentCredentials.create, `/v1/environments/${envId}/agent-credentials`, { token: await tokenAt(t, "admin") });
    expect(res.status).toBe(201);
    return (await json(res)).secret as string;
  };
  const pass = () => runRolloutPass({ db: api.db, now: () => clock, pollIntervalSeconds: api.config.agent.pollIntervalSeconds });

  /** An environment with the control in dryrun, an agent that applied revision 1, and its first (clean) audit. */
  async function setup(t: string) {
    const env = await createEnvironment(api, t, { name: "prod", settings: DRYRUN });
    const agent = await credential(t, env.id);
    const a = {
      env,
      base: `/v1/environments/${env.id}/rollouts`,
      /** The agent's heartbeat: it applied `applied`, Gatekeeper audited just now. */
      async status(applied: number) {
        const body = statusReport({
          appliedRevision: applied,
          desiredRevision: applied,
          gatekeeper: { installed: true, version: "v3.23.0", audit: { lastAuditAt: clock.toISOString(), staleAfterSeconds: 180, fresh: true } },
        });
        expect((await api.request("POST", AGENT_PATHS.status, { token: agent, body })).status).toBe(204);
      },
      async audit(violations: number) {
        const body = {
          collectedAt: clock.toISOString(),
          constraints: [constraintAudit({ enforcementAction: "dryrun", auditTimestamp: clock.toISOString() }, violations)],
        };
        expect((await api.request("POST", AGENT_PATHS.auditReport, { token: agent, body })).status).toBe(204);
      },
      async get(id: string) {
        const res = await api.request("GET", `${a.base}/${id}`, { token: await tokenAt(t, "viewer") });
        expect(res.status).toBe(200);
        return json<Plan>(res);
      },
      async settings() {
        return json(await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: await tokenAt(t, "viewer") }));
      },
    };
    await a.status(1);
    await a.audit(0);
    return a;
  }

  it("dryrun → warn → deny on a clean audit; a violation holds the step until it has been resolved for the whole window", async () => {
    const t = "ro-clean";
    const admin = await tokenAt(t, "admin");
    const a = await setup(t);
    expect((await api.request("POST", "/v1/webhooks", { token: admin, body: { url: "http://127.0.0.1:9/hook", events: ["rollout.promoted"] } })).status).toBe(
      201,
    );
    const created = await api.request("POST", a.base, {
      token: await tokenAt(t, "editor"),
      body: {
        control: "privilegedContainers",
        steps: [
          { to: "warn", when: { cleanForSeconds: 3600 } },
          { to: "deny", when: { cleanForSeconds: 3600 } },
        ],
        comment: "adopt",
      },
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const plan = await json<Plan>(created);
    expect(created.headers.get("location")).toBe(`${a.base}/${plan.id}`);
    const start = clock.toISOString();
    expect(plan).toMatchObject({
      control: "privilegedContainers",
      state: "active",
      currentAction: "dryrun",
      comment: "adopt",
      createdBy: `editor@${t}`,
      steps: [
        { to: "warn", when: { cleanForSeconds: 3600 }, takenAt: null, revision: null, by: null },
        { to: "deny", takenAt: null },
      ],
      next: { step: 0, to: "warn", due: false, cleanSince: start, dueAt: new Date(clock.getTime() + HOUR).toISOString(), evidenceMissing: false },
    });
    expect(plan.next!.waiting).toEqual([`clean since ${start}; due at ${plan.next!.dueAt}`]);
    expect(await pass()).toMatchObject({ promoted: 0, failed: 0 });

    tick(HOUR);
    await a.status(1);
    expect((await a.get(plan.id)).next).toMatchObject({ due: true, waiting: [] });
    expect(await pass()).toMatchObject({ promoted: 1 });
    const warned = await a.settings();
    expect(warned).toMatchObject({ revision: 2, author: ROLLOUT_ACTOR });
    expect(warned.settings.controls.privilegedContainers!.enforcementAction).toBe("warn");
    let p = await a.get(plan.id);
    expect(p.steps[0]).toMatchObject({ takenAt: clock.toISOString(), revision: 2, by: ROLLOUT_ACTOR });
    expect(p).toMatchObject({ state: "active", currentAction: "warn" });
    // The agent has not applied revision 2 yet: missing evidence, said so.
    expect(p.next!.waiting).toContain("the agent has not applied revision 2 yet (applied: 1)");
    expect(p.next!.evidenceMissing).toBe(true);

    // A privileged pod appears: the step waits while it is open, naming it.
    tick(60_000);
    await a.status(2);
    await a.audit(1);
    tick(2 * HOUR);
    await a.status(2);
    p = await a.get(plan.id);
    expect(p.next).toMatchObject({ due: false, cleanSince: null, evidenceMissing: false });
    expect(p.next!.waiting).toEqual(["1 open violation of privilegedContainers (Pod team-0/pod-0): the clean window starts when they resolve"]);
    expect(await pass()).toMatchObject({ promoted: 0 });
    // Resolved: the window starts at the audit that no longer saw it.
    await a.audit(0);
    const resolvedAt = clock.toISOString();
    tick(HOUR - 1000);
    await a.status(2);
    expect(await pass()).toMatchObject({ promoted: 0 });
    expect((await a.get(plan.id)).next!.cleanSince).toBe(resolvedAt);
    tick(1000);
    await a.status(2);
    expect(await pass()).toMatchObject({ promoted: 1 });
    p = await a.get(plan.id);
    expect(p).toMatchObject({ state: "completed", currentAction: "deny", next: null });
    expect(p.steps[1]).toMatchObject({ revision: 3, by: ROLLOUT_ACTOR });
    expect((await a.settings()).settings.controls.privilegedContainers!.enforcementAction).toBe("deny");
    // Completed: the scheduler no longer looks at it.
    tick(60_000);
    await pass();
    expect((await a.get(plan.id)).checkedAt).toBe(p.checkedAt);

    const rows = await auditRows(api, t);
    expect(rows.filter((r) => r.action === "settings.rollout_step").map((r) => [r.actor, (r.after as { to: string }).to])).toEqual([
      [ROLLOUT_ACTOR, "warn"],
      [ROLLOUT_ACTOR, "deny"],
    ]);
    expect(rows.filter((r) => r.action === "rollout.step").map((r) => (r.after as { reason: string }).reason)).toEqual(["clean", "clean"]);
    expect(rows.filter((r) => r.action === "rollout.create")).toHaveLength(1);
    const tenantId = await api.tenantId(t);
    const { rows: hooks } = await api.db.asSystem((tx) =>
      tx.execute<{ payload: { type: string; data: { step: Record<string, unknown>; plan: Record<string, unknown>; environment: Record<string, unknown> } } }>(
        sql`select payload from webhook_deliveries where tenant_id = ${tenantId}::uuid order by seq`,
      ),
    );
    expect(hooks.map((h) => h.payload.type)).toEqual(["rollout.promoted", "rollout.promoted"]);
    expect(hooks[1]!.payload.data).toEqual({
      plan: { id: plan.id, control: "privilegedContainers", state: "completed" },
      step: { index: 1, from: "warn", to: "deny", revision: 3, reason: "clean", by: ROLLOUT_ACTOR },
      environment: { id: a.env.id, name: "prod" },
    });
  });

  it("an agent gone offline holds the step, says so, and the clean window restarts after the gap", async () => {
    const t = "ro-offline";
    const a = await setup(t);
    const plan = await json<Plan>(
      await api.request("POST", a.base, {
        token: await tokenAt(t, "editor"),
        body: { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 3600 } }] },
      }),
    );
    tick(2 * HOUR); // no heartbeat meanwhile
    const p = await a.get(plan.id);
    expect(p.next!.due).toBe(false);
    expect(p.next!.evidenceMissing).toBe(true);
    expect(p.next!.waiting[0]).toMatch(/^the environment's agent is offline \(last seen /);
    expect(await pass()).toMatchObject({ promoted: 0 });
    const gap = clock.toISOString();
    expect((await a.get(plan.id)).checkedAt).toBe(gap);
    await a.status(1);
    const back = await a.get(plan.id);
    expect(back.next).toMatchObject({ due: false, cleanSince: gap, evidenceMissing: false });
    tick(HOUR);
    await a.status(1);
    expect(await pass()).toMatchObject({ promoted: 1 });
  });

  it("a new object admitted with a warning of the control restarts the clean window (the next step would refuse it)", async () => {
    const t = "ro-admitted";
    const a = await setup(t);
    const plan = await json<Plan>(
      await api.request("POST", a.base, {
        token: await tokenAt(t, "editor"),
        body: { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 3600 } }] },
      }),
    );
    tick(30 * 60_000);
    const agent = await credential(t, a.env.id);
    const event = admissionEvent({ action: "dryrun", firstSeenAt: clock.toISOString(), lastSeenAt: clock.toISOString() });
    expect((await api.request("POST", AGENT_PATHS.admissionEvents, { token: agent, body: { events: [event] } })).status).toBe(200);
    const seen = clock.toISOString();
    tick(30 * 60_000);
    await a.status(1);
    expect(await pass()).toMatchObject({ promoted: 0 });
    expect((await a.get(plan.id)).next).toMatchObject({ due: false, cleanSince: seen });
  });

  it("a Gatekeeper audit the agent reports stale holds the step", async () => {
    const t = "ro-stale";
    const a = await setup(t);
    const plan = await json<Plan>(
      await api.request("POST", a.base, {
        token: await tokenAt(t, "editor"),
        body: { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 60 } }] },
      }),
    );
    tick(HOUR);
    const agent = await credential(t, a.env.id);
    const body = statusReport({
      gatekeeper: { installed: true, version: "v3.23.0", audit: { lastAuditAt: "2030-01-01T00:00:00.000Z", staleAfterSeconds: 180, fresh: false } },
    });
    expect((await api.request("POST", AGENT_PATHS.status, { token: agent, body })).status).toBe(204);
    const p = await a.get(plan.id);
    expect(p.next!.waiting).toEqual(["Gatekeeper's audit is stale (newest 2030-01-01T00:00:00.000Z)"]);
    expect(await pass()).toMatchObject({ promoted: 0 });
  });

  it("a step at a time is taken then whatever the audit shows; a manual one only by hand, authored by the person", async () => {
    const t = "ro-at";
    const a = await setup(t);
    await a.audit(1); // not clean, and it does not matter for these
    const at = new Date(clock.getTime() + HOUR).toISOString();
    const plan = await json<Plan>(
      await api.request("POST", a.base, {
        token: await tokenAt(t, "editor"),
        body: {
          control: "privilegedContainers",
          steps: [
            { to: "warn", when: { at } },
            { to: "deny", when: { manual: true } },
          ],
        },
      }),
    );
    expect(plan.next).toMatchObject({ due: false, dueAt: at, waiting: [`scheduled for ${at}`] });
    expect(await pass()).toMatchObject({ promoted: 0 });
    tick(HOUR);
    expect(await pass()).toMatchObject({ promoted: 1 });
    let p = await a.get(plan.id);
    expect(p.currentAction).toBe("warn");
    expect(p.next!.waiting).toEqual(["this step is taken by hand: POST …/advance"]);
    tick(10 * HOUR);
    expect(await pass()).toMatchObject({ promoted: 0 });
    const res = await api.request("POST", `${a.base}/${plan.id}/advance`, { token: await tokenAt(t, "editor") });
    expect(res.status, await res.clone().text()).toBe(200);
    p = await json<Plan>(res);
    expect(p).toMatchObject({ state: "completed", currentAction: "deny" });
    expect(p.steps[1]).toMatchObject({ by: `editor@${t}`, revision: 3 });
    expect(await a.settings()).toMatchObject({ revision: 3, author: `editor@${t}` });
    const steps = (await auditRows(api, t)).filter((r) => r.action === "rollout.step").map((r) => [r.actor, (r.after as { reason: string }).reason]);
    expect(steps).toEqual([
      [ROLLOUT_ACTOR, "scheduled"],
      [`editor@${t}`, "manual"],
    ]);
  });

  it("a control already made stricter by hand: the step records it without a revision", async () => {
    const t = "ro-ahead";
    const a = await setup(t);
    const plan = await json<Plan>(
      await api.request("POST", a.base, {
        token: await tokenAt(t, "editor"),
        body: { control: "privilegedContainers", steps: [{ to: "warn", when: { manual: true } }] },
      }),
    );
    const patch = await api.request("PATCH", `/v1/environments/${a.env.id}/settings/controls/privilegedContainers`, {
      token: await tokenAt(t, "editor"),
      body: { enforcementAction: "deny" },
    });
    expect(patch.status, await patch.clone().text()).toBe(200);
    const p = await json<Plan>(await api.request("POST", `${a.base}/${plan.id}/advance`, { token: await tokenAt(t, "editor") }));
    expect(p).toMatchObject({ state: "completed", currentAction: "deny", steps: [{ revision: null, by: `editor@${t}` }] });
    expect((await a.settings()).revision).toBe(2);
  });

  it("lists plans newest first; a cancelled plan takes no step and frees the control for a new plan", async () => {
    const t = "ro-cancel";
    const a = await setup(t);
    const editor = await tokenAt(t, "editor");
    const body = { control: "privilegedContainers", steps: [{ to: "warn", when: { cleanForSeconds: 60 } }] };
    const first = await json<Plan>(await api.request("POST", a.base, { token: editor, body }));
    const cancelled = await api.request("POST", `${a.base}/${first.id}/cancel`, { token: editor });
    expect(cancelled.status).toBe(200);
    expect(await json(cancelled)).toMatchObject({ id: first.id, state: "cancelled", next: null });
    tick(HOUR);
    await a.status(1);
    await pass();
    expect(await a.get(first.id)).toMatchObject({ state: "cancelled", checkedAt: null, currentAction: "dryrun" });
    const second = await json<Plan>(await api.request("POST", a.base, { token: await tokenAt(t, "editor"), body }));
    const list = await json<ResponseBodyOf<typeof routes.rollouts.listRoute>>(await api.request("GET", a.base, { token: await tokenAt(t, "viewer") }));
    expect(list.items.map((p) => [p.id, p.state])).toEqual([
      [second.id, "active"],
      [first.id, "cancelled"],
    ]);
    expect((await auditRows(api, t)).filter((r) => r.action === "rollout.cancel")).toMatchObject([{ actor: `editor@${t}`, targetId: first.id }]);
  });
});
