// Drafts as an editor and a viewer use them: created from a document, a preset or a merge-patch
// (resolved against the base revision), listed, read, changed, deleted and promoted, each audited;
// expiry removes a draft from the list.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { Problem } from "../app/problem.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment, setSettings } from "../../test/harness/fixtures.ts";
import { applyPreset, EnvironmentSettings, presets } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";

const DAY = 86_400_000;

describe.each(backends())("drafts ($name)", (backend) => {
  let api: TestApi;
  let clock = new Date("2030-01-01T00:00:00Z");
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const drafts = (id: string) => `/v1/environments/${id}/drafts` as const;
  // Tokens valid at the app's clock, which the tests move.
  const tokenAt = (t: string, role: "viewer" | "editor") => {
    const at = Math.floor(clock.getTime() / 1000);
    return api.token(t, role, { sign: { iat: at, exp: at + 3600 } });
  };
  const editor = (t: string) => tokenAt(t, "editor");

  it("creates a draft of a preset against the current revision, keeping its environment-wide knobs", async () => {
    const t = "dr-preset";
    const base = { enforcementAction: "warn" as const, exemptions: { namespaces: [{ pattern: "legacy-*" }] } };
    const env = await createEnvironment(api, t, { name: "prod", settings: base });
    const res = await api.call(routes.drafts.createDraftRoute, drafts(env.id), {
      token: await editor(t),
      body: { preset: "restricted", comment: "try restricted" },
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const d = await json(res);
    expect(res.headers.get("location")).toBe(`${drafts(env.id)}/${d.id}`);
    expect(d).toEqual({
      id: expect.any(String),
      environmentId: env.id,
      baseRevision: 1,
      settings: EnvironmentSettings.parse(applyPreset(EnvironmentSettings.parse(base), "restricted")),
      comment: "try restricted",
      author: `editor@${t}`,
      version: 1,
      shadowPrefix: `preview-${d.id.slice(0, 8)}-1-`,
      createdAt: clock.toISOString(),
      updatedAt: clock.toISOString(),
      expiresAt: new Date(clock.getTime() + 7 * DAY).toISOString(),
    });
    // A draft is not a revision: the current settings did not move.
    const settings = await json(await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: await tokenAt(t, "viewer") }));
    expect(settings.revision).toBe(1);
    const [row] = (await auditRows(api, t)).filter((r) => r.action === "draft.create");
    expect(row).toMatchObject({
      actor: `editor@${t}`,
      targetType: "draft",
      targetId: d.id,
      after: { environmentId: env.id, baseRevision: 1, source: "preset:restricted" },
    });
  });

  it("a merge-patch of controls resolves against the base; a whole document stands alone", async () => {
    const t = "dr-patch";
    const env = await createEnvironment(api, t, {
      name: "prod",
      settings: { controls: { privilegedContainers: { enabled: true }, hostPaths: { enabled: true } } },
    });
    const token = await editor(t);
    const patched = await json(
      await api.call(routes.drafts.createDraftRoute, drafts(env.id), {
        token,
        body: { controls: { privilegedContainers: { enforcementAction: "warn" }, hostPaths: null, seccomp: { enabled: true } } },
      }),
    );
    expect(Object.keys(patched.settings.controls).sort()).toEqual(["privilegedContainers", "seccomp"]);
    expect(patched.settings.controls.privilegedContainers!.enforcementAction).toBe("warn");
    const whole = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token, body: { settings: { enforcementAction: "dryrun" } } }));
    expect(whole.settings).toEqual(EnvironmentSettings.parse({ enforcementAction: "dryrun" }));
  });

  it("lists open drafts oldest first, reads one, and drops expired ones from the list (410 on read)", async () => {
    const t = "dr-list";
    const env = await createEnvironment(api, t, { name: "prod" });
    const a = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token: await editor(t), body: { preset: "baseline" } }));
    clock = new Date(clock.getTime() + DAY);
    const b = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token: await editor(t), body: { preset: "restricted" } }));
    let viewer = await tokenAt(t, "viewer");
    const list = await json(await api.call(routes.drafts.listRoute, drafts(env.id), { token: viewer }));
    expect(list).toEqual({ items: [a, b], nextCursor: null });
    expect(await json(await api.call(routes.drafts.getRoute, `${drafts(env.id)}/${a.id}`, { token: viewer }))).toEqual(a);
    clock = new Date(Date.parse(a.expiresAt));
    viewer = await tokenAt(t, "viewer");
    expect((await json(await api.call(routes.drafts.listRoute, drafts(env.id), { token: viewer }))).items).toEqual([b]);
    const gone = await api.request("GET", `${drafts(env.id)}/${a.id}`, { token: viewer });
    expect(gone.status).toBe(410);
    expect((await json<Problem>(gone)).detail).toContain(`expired at ${a.expiresAt}`);
  });

  it("updates: a patch keeps the base, a preset rebases onto the current revision; each restarts the expiry", async () => {
    const t = "dr-update";
    const env = await createEnvironment(api, t, { name: "prod" });
    const token = await editor(t);
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token, body: { preset: "baseline" } }));
    await setSettings(api, t, env.id, { enforcementAction: "warn" });
    clock = new Date(clock.getTime() + 60_000);
    const res = await api.call(routes.drafts.updateRoute, `${drafts(env.id)}/${d.id}`, { token, body: { controls: { seccomp: { enabled: true } } } });
    expect(res.status, await res.clone().text()).toBe(200);
    const patched = await json(res);
    expect(patched.baseRevision).toBe(1);
    expect(patched.settings.controls.seccomp!.enabled).toBe(true);
    expect(patched.updatedAt).toBe(clock.toISOString());
    expect(patched.expiresAt).toBe(new Date(clock.getTime() + 7 * DAY).toISOString());
    const rebased = await json(
      await api.call(routes.drafts.updateRoute, `${drafts(env.id)}/${d.id}`, { token, body: { preset: "restricted", comment: "stricter" } }),
    );
    expect(rebased.baseRevision).toBe(2);
    expect([patched.version, rebased.version]).toEqual([2, 3]);
    expect(rebased.shadowPrefix).toBe(`preview-${d.id.slice(0, 8)}-3-`);
    expect(rebased.settings.enforcementAction).toBe("warn");
    expect(rebased.comment).toBe("stricter");
    expect((await auditRows(api, t)).filter((r) => r.action === "draft.update")).toHaveLength(2);
  });

  it("deletes a draft (audited); it is then 404", async () => {
    const t = "dr-delete";
    const env = await createEnvironment(api, t, { name: "prod" });
    const token = await editor(t);
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token, body: { preset: "baseline" } }));
    expect((await api.request("DELETE", `${drafts(env.id)}/${d.id}`, { token })).status).toBe(204);
    expect((await api.request("GET", `${drafts(env.id)}/${d.id}`, { token })).status).toBe(404);
    const [row] = (await auditRows(api, t)).filter((r) => r.action === "draft.delete");
    expect(row).toMatchObject({ targetId: d.id, before: { environmentId: env.id, baseRevision: 1 } });
  });

  it("promotes a draft to the next revision (If-Match current), audited, and the draft is gone", async () => {
    const t = "dr-promote";
    const env = await createEnvironment(api, t, { name: "prod" });
    const token = await editor(t);
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env.id), { token, body: { preset: "restricted", comment: "harden" } }));
    const res = await api.call(routes.drafts.promoteRoute, `${drafts(env.id)}/${d.id}/promote`, { token, headers: { "if-match": '"1"' } });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(res.headers.get("etag")).toBe('"2"');
    expect(res.headers.get("location")).toBe(`/v1/environments/${env.id}/settings/revisions/2`);
    const rev = await json(res);
    expect(rev).toMatchObject({ revision: 2, settings: d.settings, author: `editor@${t}`, comment: "harden" });
    expect(rev.settings.controls).toEqual(EnvironmentSettings.parse({ controls: presets.restricted.controls }).controls);
    expect((await api.request("GET", `${drafts(env.id)}/${d.id}`, { token })).status).toBe(404);
    const [row] = (await auditRows(api, t)).filter((r) => r.action === "settings.promote_draft");
    expect(row).toMatchObject({ targetType: "environment", targetId: env.id, before: { revision: 1 }, after: { revision: 2, draft: d.id } });
  });

  it("a draft of an environment without settings (revision 0) promotes to revision 1", async () => {
    const t = "dr-zero";
    const tenantId = await api.tenantId(t);
    const { environments } = await import("../db/schema.ts");
    const [env] = await api.db.withTenant(tenantId, (tx) => tx.insert(environments).values({ tenantId, name: "empty" }).returning({ id: environments.id }));
    const token = await editor(t);
    const d = await json(await api.call(routes.drafts.createDraftRoute, drafts(env!.id), { token, body: { preset: "baseline" } }));
    expect(d.baseRevision).toBe(0);
    const res = await api.call(routes.drafts.promoteRoute, `${drafts(env!.id)}/${d.id}/promote`, { token, headers: { "if-match": "*" } });
    expect(res.status, await res.clone().text()).toBe(201);
    expect((await json(res)).revision).toBe(1);
  });
});
