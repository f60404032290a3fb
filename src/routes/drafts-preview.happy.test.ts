// Shadow evaluation through the agent protocol: an open draft's constraints appear in the desired
// state as dryrun shadows (with the templates they need) and the ETag follows every draft change and
// expiry; their audit results become the draft's preview, never violations or webhook events.
import { count } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/fixtures.ts";
import { violations, webhookDeliveries } from "../db/schema.ts";
import { EnvironmentSettings, presets, renderEnvironment } from "../policies/index.ts";
import { AGENT_PATHS, MANAGED_BY_LABEL, MANAGED_BY_VALUE, SHADOW_LABEL } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

type Obj = { apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string> }; spec: { enforcementAction?: string } };
const CURRENT = { controls: { privilegedContainers: { enabled: true } } } as const;

describe.each(backends())("draft shadows and preview ($name)", (backend) => {
  let api: TestApi;
  // The app's clock: now at the start of each test (agent credentials are made with real-time
  // tokens), moved forward by the tests.
  let clock = new Date();
  beforeEach(() => {
    clock = new Date();
  });
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock, webhooks: { allowHttp: true, allowPrivate: true } });
  });
  afterAll(() => api?.close());

  const tokenAt = (t: string, role: "viewer" | "editor" | "admin") => {
    const at = Math.floor(clock.getTime() / 1000);
    return api.token(t, role, { sign: { iat: at, exp: at + 3600 } });
  };
  const createDraft = async (t: string, envId: string, body: unknown) => {
    const res = await api.call(routes.drafts.createDraftRoute, `/v1/environments/${envId}/drafts`, { token: await tokenAt(t, "editor"), body });
    expect(res.status, await res.clone().text()).toBe(201);
    return json(res);
  };

  it("desired state: the current objects plus the draft's shadows (dryrun, prefixed, labelled) and their extra templates", async () => {
    const t = "dp-shadow";
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const { secret } = await createAgentCredential(api, t, env.id);
    const d = await createDraft(t, env.id, { preset: "restricted" });
    const body = await json(await api.call(routes.agentDesiredState.route, AGENT_PATHS.desiredState, { token: secret }));
    const objects = body.objects as Obj[];
    const current = renderEnvironment(EnvironmentSettings.parse(CURRENT), clock).objects;
    // The current revision's objects are there unchanged.
    for (const o of current) expect(objects).toContainEqual(o);
    const shadows = objects.filter((o) => o.metadata.labels[SHADOW_LABEL] === d.id);
    const restricted = renderEnvironment(EnvironmentSettings.parse({ controls: presets.restricted.controls }), clock).objects;
    const wanted = restricted.filter((o) => o.apiVersion.startsWith("constraints."));
    expect(shadows.map((s) => s.metadata.name).sort()).toEqual(wanted.map((w) => `preview-${d.id.slice(0, 8)}-1-${w.metadata.name}`).sort());
    for (const s of shadows) {
      expect(s.spec.enforcementAction).toBe("dryrun");
      expect(s.metadata.labels[MANAGED_BY_LABEL]).toBe(MANAGED_BY_VALUE);
    }
    // Every template a shadow needs is desired once; templates before constraints.
    const templates = objects.filter((o) => o.kind === "ConstraintTemplate").map((o) => o.metadata.name);
    expect(new Set(templates).size).toBe(templates.length);
    for (const w of restricted.filter((o) => o.kind === "ConstraintTemplate")) expect(templates).toContain(w.metadata.name);
    const lastTemplate = objects.findLastIndex((o) => o.kind === "ConstraintTemplate");
    expect(objects.findIndex((o) => o.apiVersion.startsWith("constraints."))).toBeGreaterThan(lastTemplate);
  });

  it("the ETag changes when a draft is created, updated, deleted, and when one expires", async () => {
    const t = "dp-etag";
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const { secret } = await createAgentCredential(api, t, env.id);
    const poll = async (etag?: string) => {
      const res = await api.call(routes.agentDesiredState.route, AGENT_PATHS.desiredState, { token: secret, headers: etag ? { "if-none-match": etag } : {} });
      return { status: res.status, etag: res.headers.get("etag")!, objects: res.status === 200 ? ((await json(res)).objects as Obj[]) : [] };
    };
    const start = await poll();
    expect((await poll(start.etag)).status).toBe(304);
    const d = await createDraft(t, env.id, { preset: "baseline" });
    const created = await poll(start.etag);
    expect(created.status).toBe(200);
    const patched = await api.request("PATCH", `/v1/environments/${env.id}/drafts/${d.id}`, {
      token: await tokenAt(t, "editor"),
      body: { controls: { readOnlyRootFilesystem: { enabled: true } } },
    });
    expect(patched.status).toBe(200);
    const updated = await poll(created.etag);
    expect(updated.status).toBe(200);
    expect(updated.objects.some((o) => o.metadata.name === `preview-${d.id.slice(0, 8)}-2-read-only-root-filesystem`)).toBe(true);
    // Even a change the dryrun shadows do not show (an enforcement action) replaces them: new names.
    await api.request("PATCH", `/v1/environments/${env.id}/drafts/${d.id}`, {
      token: await tokenAt(t, "editor"),
      body: { controls: { readOnlyRootFilesystem: { enforcementAction: "warn" } } },
    });
    const actionOnly = await poll(updated.etag);
    expect(actionOnly.status).toBe(200);
    expect(actionOnly.objects.some((o) => o.metadata.name === `preview-${d.id.slice(0, 8)}-3-read-only-root-filesystem`)).toBe(true);
    expect(actionOnly.objects.some((o) => o.metadata.name.startsWith(`preview-${d.id.slice(0, 8)}-2-`))).toBe(false);
    expect((await api.request("DELETE", `/v1/environments/${env.id}/drafts/${d.id}`, { token: await tokenAt(t, "editor") })).status).toBe(204);
    const deleted = await poll(actionOnly.etag);
    expect(deleted.status).toBe(200);
    expect(deleted.etag).toBe(start.etag);
    const e = await createDraft(t, env.id, { preset: "baseline" });
    const again = await poll(start.etag);
    expect(again.status).toBe(200);
    clock = new Date(Date.parse(e.expiresAt));
    const expired = await poll(again.etag);
    expect(expired.status).toBe(200);
    expect(expired.objects.some((o) => o.metadata.labels[SHADOW_LABEL])).toBe(false);
  });

  it("shadow audits become the preview (already violating vs new), never violations or webhook events", async () => {
    const t = "dp-preview";
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const { secret } = await createAgentCredential(api, t, env.id);
    const admin = await tokenAt(t, "admin");
    const hook = await api.request("POST", "/v1/webhooks", {
      token: admin,
      body: { url: "http://127.0.0.1:9/hook", events: ["violation.opened"], deliveryMode: "per-violation" },
    });
    expect(hook.status, await hook.clone().text()).toBe(201);
    const d = await createDraft(t, env.id, {
      controls: { privilegedContainers: { enforcementAction: "deny" }, capabilities: { enabled: true, options: { requiredDrop: ["ALL"] } } },
    });
    const viewer = await tokenAt(t, "viewer");
    const preview = async () => json(await api.call(routes.draftsPreview.route, `/v1/environments/${env.id}/drafts/${d.id}/preview`, { token: viewer }));
    const before = await preview();
    expect(before).toMatchObject({ draftId: d.id, evaluated: false, collectedAt: null });
    expect(before.controls.map((c: { control: string; evaluated: boolean }) => [c.control, c.evaluated])).toEqual([
      ["privilegedContainers", false],
      ["capabilities", false],
    ]);

    const prefix = d.shadowPrefix;
    expect(prefix).toBe(`preview-${d.id.slice(0, 8)}-1-`);
    const later = new Date(clock.getTime() + 60_000).toISOString();
    const report = {
      collectedAt: later,
      constraints: [
        constraintAudit({ auditTimestamp: later }, 1), // the current constraint: pod-0 is an open violation
        constraintAudit(
          { name: `${prefix}privileged-containers`, enforcementAction: "dryrun", auditTimestamp: later, totalViolations: 30, truncated: true },
          2,
        ),
        constraintAudit(
          {
            kind: "GatehouseCapabilities",
            name: `${prefix}capabilities`,
            control: "capabilities",
            enforcementAction: "dryrun",
            auditTimestamp: null,
            totalViolations: 0,
          },
          0,
        ),
      ],
    };
    report.constraints[1]!.violations.push(violation(1, { message: "a second finding on pod-1" }));
    const res = await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: report });
    expect(res.status, await res.clone().text()).toBe(204);

    const after = await preview();
    expect(after.collectedAt).toBe(later);
    expect(after.evaluated).toBe(false); // capabilities' shadow is not audited yet
    const [pc, caps] = after.controls;
    expect(pc).toEqual({
      control: "privilegedContainers",
      constraint: { kind: "GatehousePrivilegedContainers", name: `${prefix}privileged-containers` },
      enforcementAction: "deny",
      evaluated: true,
      auditTimestamp: later,
      totalViolations: 30,
      truncated: true,
      alreadyViolating: 1,
      new: 1,
      violations: [
        { kind: "Pod", namespace: "team-0", name: "pod-0", message: expect.any(String), alreadyViolating: true, owner: null },
        { kind: "Pod", namespace: "team-1", name: "pod-1", message: expect.any(String), alreadyViolating: false, owner: null },
      ],
      admissions: [],
    });
    expect(caps).toMatchObject({ control: "capabilities", evaluated: false, totalViolations: null, violations: [] });
    // Only the current constraint's violation is history; no shadow in the stored report; one event.
    const tenantId = await api.tenantId(t);
    const rows = await api.db.withTenant(tenantId, (tx) => tx.select({ name: violations.constraintName }).from(violations));
    expect(rows).toEqual([{ name: "privileged-containers" }]);
    const [deliveries] = await api.db.withTenant(tenantId, (tx) => tx.select({ n: count() }).from(webhookDeliveries));
    expect(deliveries?.n).toBe(1);
    const stored = await json(await api.call(routes.environmentAuditReport.route, `/v1/environments/${env.id}/audit-report`, { token: viewer }));
    expect(stored.constraints.map((c: { name: string }) => c.name)).toEqual(["privileged-containers"]);

    // After a change, an audit of the previous version's shadows (other names) is not the preview.
    clock = new Date(clock.getTime() + 120_000);
    await api.request("PATCH", `/v1/environments/${env.id}/drafts/${d.id}`, {
      token: await tokenAt(t, "editor"),
      body: { controls: { seccomp: { enabled: true } } },
    });
    const stale = { ...report, collectedAt: new Date(clock.getTime() + 1000).toISOString() };
    expect((await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: stale })).status).toBe(204);
    expect(
      (await json(await api.call(routes.draftsPreview.route, `/v1/environments/${env.id}/drafts/${d.id}/preview`, { token: await tokenAt(t, "viewer") })))
        .controls[0]!.evaluated,
    ).toBe(false);
  });

  it("with Prefer: respond-async the shadows become the preview after the 202; a late, older report moves it not at all", async () => {
    const t = "dp-async";
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const { secret } = await createAgentCredential(api, t, env.id);
    const d = await createDraft(t, env.id, { controls: { privilegedContainers: { enforcementAction: "deny" } } });
    const viewer = await tokenAt(t, "viewer");
    const preview = async () => json(await api.call(routes.draftsPreview.route, `/v1/environments/${env.id}/drafts/${d.id}/preview`, { token: viewer }));
    const shadowed = (at: Date, total: number) => ({
      collectedAt: at.toISOString(),
      constraints: [
        constraintAudit({ auditTimestamp: at.toISOString() }, 1),
        constraintAudit(
          { name: `${d.shadowPrefix}privileged-containers`, enforcementAction: "dryrun", auditTimestamp: at.toISOString(), totalViolations: total },
          total,
        ),
      ],
    });
    // Collected before the server received it (reports rank by collectedAt, never later than their receipt).
    const at = new Date(clock.getTime() - 60_000);
    const res = await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: shadowed(at, 3), headers: { prefer: "respond-async" } });
    expect(res.status, await res.clone().text()).toBe(202);
    await api.deferred.idle();
    expect((await preview()).controls[0]).toMatchObject({ evaluated: true, auditTimestamp: at.toISOString(), totalViolations: 3 });

    // Collected before the stored one (a late retry): not stored, so it moves no preview either.
    const older = await api.request("POST", AGENT_PATHS.auditReport, { token: secret, body: shadowed(new Date(at.getTime() - 30_000), 1) });
    expect(older.status).toBe(204);
    expect((await preview()).controls[0]).toMatchObject({ evaluated: true, auditTimestamp: at.toISOString(), totalViolations: 3 });
  });

  it("GET rendered?draft= renders the draft as it would apply once promoted (JSON and YAML)", async () => {
    const t = "dp-rendered";
    const env = await createEnvironment(api, t, { name: "prod", settings: CURRENT });
    const d = await createDraft(t, env.id, { preset: "restricted" });
    const viewer = await tokenAt(t, "viewer");
    const res = await api.call(routes.rendered.route, `/v1/environments/${env.id}/rendered?draft=${d.id}`, { token: viewer });
    expect(res.status).toBe(200);
    const body = await json(res);
    const expected = renderEnvironment(EnvironmentSettings.parse(d.settings), clock);
    expect(body).toEqual({ revision: 1, draft: d.id, objects: expected.objects, summary: expected.summary });
    const current = await api.request("GET", `/v1/environments/${env.id}/rendered`, { token: viewer });
    expect(current.headers.get("etag")).not.toBe(res.headers.get("etag"));
    const yaml = await (await api.request("GET", `/v1/environments/${env.id}/rendered?draft=${d.id}&format=yaml`, { token: viewer })).text();
    expect(yaml.startsWith(`# draft ${d.id} (based on revision 1)\n`)).toBe(true);
  });
});
