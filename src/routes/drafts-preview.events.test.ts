// What a draft's preview learns besides the audit's counts: the owning workload the agent resolved
// for each listed object; the shadow constraints' admission events as new objects the draft would
// refuse (idempotent per Event, never denials); and the draft.previewed webhook — on the first
// evaluation and when the counts change, not for a report that changes nothing.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { admissionEvent, constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const CURRENT = { controls: { privilegedContainers: { enabled: true, enforcementAction: "dryrun" as const } } } as const;

describe.each(backends())("draft preview events ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date();
  beforeEach(() => {
    clock = new Date();
  });
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, webhooks: { allowHttp: true, allowPrivate: true } });
  });
  afterAll(() => api?.close());

  async function setup(t: string) {
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const { secret } = await createAgentCredential(api, t, env.id);
    const admin = await api.token(t, "admin");
    const hook = await api.request("POST", "/v1/webhooks", { token: admin, body: { url: "http://127.0.0.1:9/hook", events: ["draft.previewed"] } });
    expect(hook.status).toBe(201);
    const res = await api.call(routes.drafts.createDraftRoute, `/v1/environments/${env.id}/drafts`, {
      token: admin,
      body: { controls: { privilegedContainers: { enforcementAction: "deny" } } },
    });
    expect(res.status).toBe(201);
    const draft = await json(res);
    const tenantId = await api.tenantId(t);
    return {
      env,
      draft,
      name: `${draft.shadowPrefix}privileged-containers`,
      agent: (path: string, body: unknown) => api.request("POST", path, { token: secret, body }),
      preview: async () =>
        (await json(await api.call(routes.draftsPreview.route, `/v1/environments/${env.id}/drafts/${draft.id}/preview`, { token: admin }))).controls[0],
      hooks: async () =>
        (
          await api.db.asSystem((tx) =>
            tx.execute<{ payload: { type: string; data: Record<string, unknown> } }>(
              sql`select payload from webhook_deliveries where tenant_id = ${tenantId}::uuid order by seq`,
            ),
          )
        ).rows.map((r) => r.payload),
    };
  }

  let seq = 0;
  const report = (name: string, listed: ReturnType<typeof violation>[]) => {
    const at = new Date(clock.getTime() + ++seq * 1000).toISOString();
    return {
      collectedAt: at,
      constraints: [{ ...constraintAudit({ name, enforcementAction: "dryrun", auditTimestamp: at }, 0), totalViolations: listed.length, violations: listed }],
    };
  };

  it("the preview shows each object's owning workload as the agent resolved it (null when it has none)", async () => {
    const s = await setup("dpe-owner");
    const owned = violation(1, { name: "web-7c9d8f6b5d-x2x7q", owner: { kind: "Deployment", name: "web" } });
    const bare = violation(2, { name: "debug" });
    expect((await s.agent(AGENT_PATHS.auditReport, report(s.name, [owned, bare]))).status).toBe(204);
    const p = await s.preview();
    expect(p!.violations.map((v: { name: string; owner: unknown }) => [v.name, v.owner])).toEqual([
      ["web-7c9d8f6b5d-x2x7q", { kind: "Deployment", name: "web" }],
      ["debug", null],
    ]);
  });

  it("refuses an owner that is not a kind and name (400 naming the field)", async () => {
    const s = await setup("dpe-owner-bad");
    const res = await s.agent(AGENT_PATHS.auditReport, report(s.name, [violation(1, { owner: { kind: "", name: "web" } })]));
    expect(res.status).toBe(400);
    expect(JSON.stringify(await json(res))).toContain("constraints[0].violations[0].owner.kind");
  });

  it("draft.previewed: on the first evaluation and when the counts change, not for the same counts again", async () => {
    const s = await setup("dpe-hook");
    expect((await s.agent(AGENT_PATHS.auditReport, report(s.name, [violation(1)]))).status).toBe(204);
    expect((await s.agent(AGENT_PATHS.auditReport, report(s.name, [violation(1, { message: "other words" })]))).status).toBe(204);
    expect((await s.agent(AGENT_PATHS.auditReport, report(s.name, [violation(1), violation(2)]))).status).toBe(204);
    const hooks = await s.hooks();
    expect(hooks.map((h) => h.type)).toEqual(["draft.previewed", "draft.previewed"]);
    expect(hooks[0]!.data).toEqual({
      draft: { id: s.draft.id, version: 1 },
      environment: { id: s.env.id, name: "prod" },
      first: true,
      controls: [{ control: "privilegedContainers", totalViolations: 1, previous: null }],
    });
    expect(hooks[1]!.data).toMatchObject({ first: false, controls: [{ control: "privilegedContainers", totalViolations: 2, previous: 1 }] });
  });

  it("shadow admission events are new objects the draft would refuse: one per workload, counted once per Event, never denials", async () => {
    const s = await setup("dpe-admit");
    const shadow = (uid: string, count: number, name: string, owner: { kind: string; name: string } | null) =>
      admissionEvent({
        uid,
        count,
        action: "dryrun",
        constraintName: s.name,
        resource: { group: "", version: "v1", kind: "Pod", namespace: "team-a", name },
        owner,
      });
    const batch = [
      shadow("u1", 2, "api-6b7c8d9f5a-aaaaa", { kind: "Deployment", name: "api" }),
      shadow("u2", 1, "api-6b7c8d9f5a-bbbbb", { kind: "Deployment", name: "api" }),
      shadow("u3", 1, "debug", null),
    ];
    const first = await s.agent(AGENT_PATHS.admissionEvents, { events: batch });
    expect(first.status).toBe(200);
    expect(await json(first)).toEqual({ counted: 0, unchanged: 0, shadow: 3 });
    // Sent again (an agent restart): nothing added. A grown count replaces the Event's.
    expect((await s.agent(AGENT_PATHS.admissionEvents, { events: [...batch.slice(0, 2), shadow("u3", 4, "debug", null)] })).status).toBe(200);
    const p = await s.preview();
    expect(p!.evaluated).toBe(false); // the audit has not run; admissions do not wait for it
    expect(
      p!.admissions
        .map((a: { workload: unknown; count: number }) => [a.workload, a.count])
        .sort((a: unknown[], b: unknown[]) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    ).toEqual([
      [{ kind: "Deployment", name: "api" }, 3],
      [{ kind: "Pod", name: "debug" }, 4],
    ]);
    const denials = await json(await api.call(routes.denials.list, `/v1/denials?environment=${s.env.id}`, { token: await api.token("dpe-admit", "viewer") }));
    expect(denials.items).toEqual([]);
    // After a change the draft is another document: what its older shadows recorded is gone.
    const admin = await api.token("dpe-admit", "admin");
    expect(
      (await api.request("PATCH", `/v1/environments/${s.env.id}/drafts/${s.draft.id}`, { token: admin, body: { controls: { seccomp: { enabled: true } } } }))
        .status,
    ).toBe(200);
    expect((await s.agent(AGENT_PATHS.admissionEvents, { events: [shadow("u4", 1, "late", null)] })).status).toBe(200);
    expect((await s.preview())!.admissions).toEqual([]);
  });
});
