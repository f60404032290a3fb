// Presets: the list, and applying one as a new revision that keeps environment-wide knobs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment, setSettings } from "../../test/harness/fixtures.ts";
import { applyPreset, catalogue, EnvironmentSettings, presetControls, presets, type EnvironmentSettingsInput } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const CUSTOM = {
  enforcementAction: "warn",
  exemptions: { namespaces: [{ pattern: "legacy-*", reason: "migrating" }], images: [{ pattern: "registry.example.com/debug/*" }] },
  controls: { readOnlyRootFilesystem: { enabled: true }, privilegedContainers: { enabled: true, enforcementAction: "dryrun" } },
} satisfies EnvironmentSettingsInput;

describe.each(backends())("presets ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  it("lists baseline and restricted with the controls they enable, in catalogue order", async () => {
    const res = await api.call(routes.presets.listRoute, "/v1/presets", { token: await api.token("acme-pl", "viewer") });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.map((p: { name: string }) => p.name)).toEqual(["baseline", "restricted"]);
    const order = catalogue.map((c) => c.id);
    for (const p of body) {
      expect(p).toEqual({
        name: p.name,
        title: presets[p.name as "baseline"].title,
        description: presets[p.name as "baseline"].description,
        controls: order.filter((id) => id in presets[p.name as "baseline"].controls),
      });
    }
    const [baseline, restricted] = body;
    expect(baseline!.controls).toContain("privilegedContainers");
    expect(baseline!.controls).not.toContain("privilegeEscalation");
    // restricted is baseline plus more
    expect(restricted!.controls).toEqual(expect.arrayContaining(baseline!.controls));
    expect(restricted!.controls).toEqual(expect.arrayContaining(["volumeTypes", "privilegeEscalation", "usersAndGroups"]));
  });

  it("applies a preset: controls replaced, enforcementAction and exemptions kept, audited", async () => {
    const env = await createEnvironment(api, "acme-pa", { name: "prod", settings: CUSTOM });
    const res = await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, {
      token: await api.token("acme-pa", "editor", { sub: "erin" }),
      body: { preset: "restricted" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"2"');
    expect(res.headers.get("location")).toBe(`/v1/environments/${env.id}/settings/revisions/2`);
    const body = await json(res);
    const expected = EnvironmentSettings.parse(applyPreset(EnvironmentSettings.parse(CUSTOM), "restricted"));
    expect(body).toEqual({ revision: 2, settings: expected, author: "erin", comment: "apply preset restricted", createdAt: expect.any(String) });
    expect(body.settings.enforcementAction).toBe("warn");
    expect(body.settings.exemptions.namespaces).toEqual([{ pattern: "legacy-*", reason: "migrating" }]);
    expect(body.settings.exemptions.images).toEqual([{ pattern: "registry.example.com/debug/*" }]);
    // The preset's controls exactly: the custom readOnlyRootFilesystem is gone, privileged has no dryrun override.
    expect(Object.keys(body.settings.controls).sort()).toEqual(Object.keys(presets.restricted.controls).sort());
    expect(body.settings.controls.privilegedContainers!.enforcementAction).toBeUndefined();

    const stored = await json(
      await api.call(routes.revisions.getRoute, `/v1/environments/${env.id}/settings/revisions/2`, { token: await api.token("acme-pa", "viewer") }),
    );
    expect(stored).toEqual(body);
    const [entry] = (await auditRows(api, "acme-pa")).filter((a) => a.action === "settings.preset");
    expect(entry).toMatchObject({
      actor: "erin",
      targetType: "environment",
      targetId: env.id,
      before: { revision: 1, settings: EnvironmentSettings.parse(CUSTOM) },
    });
    expect(entry!.after).toEqual({ revision: 2, preset: "restricted", settings: body.settings });
    const log = await json(await api.call(routes.auditLog.route, "/v1/audit-log?action=settings.preset", { token: await api.token("acme-pa", "admin") }));
    expect(log.items[0]!.changes).toEqual(expect.arrayContaining([{ path: "settings.controls.readOnlyRootFilesystem", before: expect.any(Object) }]));
  });

  it("pins a PSS version: the document records it, the controls take its semantics, later applications keep it", async () => {
    const env = await createEnvironment(api, "acme-pv", { name: "prod" });
    const token = await api.token("acme-pv", "editor");
    const pinned = await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, {
      token,
      body: { preset: "baseline", pssVersion: "v1.33" },
    });
    expect(pinned.status).toBe(201);
    const body = await json(pinned);
    expect(body.settings.pssVersion).toBe("v1.33");
    expect(body.comment).toBe("apply preset baseline at PSS v1.33");
    expect(body.settings).toEqual(EnvironmentSettings.parse({ pssVersion: "v1.33", controls: presetControls("baseline", "v1.33") }));
    // v1.33 predates the probe host check and the hostUsers relaxation of /proc mounts.
    expect(body.settings.controls.probeHosts).toBeUndefined();
    expect((body.settings.controls.procMount!.options as { anyInUserNamespace: boolean }).anyInUserNamespace).toBe(false);

    const again = await json(
      await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, { token, body: { preset: "restricted" } }),
    );
    expect(again.settings.pssVersion).toBe("v1.33");
    expect((again.settings.controls.usersAndGroups!.options as { runAsUser: { exemptUserNamespaces: boolean } }).runAsUser.exemptUserNamespaces).toBe(false);

    const latest = await json(
      await api.call(routeDefs.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, {
        token,
        body: { preset: "restricted", pssVersion: "latest" },
      }),
    );
    expect(latest.settings.pssVersion).toBe("latest");
    expect(latest.settings.controls.probeHosts!.enabled).toBe(true);
    expect((latest.settings.controls.usersAndGroups!.options as { runAsUser: { exemptUserNamespaces: boolean } }).runAsUser.exemptUserNamespaces).toBe(true);
    const [entry] = (await auditRows(api, "acme-pv")).filter((a) => a.action === "settings.preset" && (a.after as { revision?: number }).revision === 4);
    // The audit row holds both whole documents (the audit log diffs them on read).
    expect(entry!.after).toMatchObject({ preset: "restricted", pssVersion: "latest", settings: { pssVersion: "latest" } });
    expect(entry!.before).toMatchObject({ settings: { pssVersion: "v1.33" } });
  });

  it("takes a comment and a matching If-Match; baseline after restricted drops the extra controls", async () => {
    const env = await createEnvironment(api, "acme-pb", { name: "prod" });
    await setSettings(api, "acme-pb", env.id, { controls: presets.restricted.controls });
    const res = await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, {
      token: await api.apiKey("acme-pb", "admin"),
      headers: { "if-match": '"2"' },
      body: { preset: "baseline", comment: "restricted broke the batch jobs" },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ revision: 3, comment: "restricted broke the batch jobs" });
    expect(body.settings.controls).not.toHaveProperty("privilegeEscalation");
    expect((body.settings.controls.capabilities!.options as { requiredDrop: string[] }).requiredDrop).toEqual([]);
    const diff = await json(
      await api.call(routes.revisions.diffRoute, `/v1/environments/${env.id}/settings/diff?from=2&to=3`, { token: await api.token("acme-pb", "viewer") }),
    );
    expect(diff.changes.map((c: { path: string }) => c.path)).toEqual(expect.arrayContaining(["controls.privilegeEscalation", "controls.volumeTypes"]));
  });

  it("applying the same preset twice still appends a revision (history records the intent)", async () => {
    const env = await createEnvironment(api, "acme-pc", { name: "prod" });
    const token = await api.token("acme-pc", "editor");
    const first = await json(await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, { token, body: { preset: "baseline" } }));
    const second = await json(await api.call(routes.presets.applyRoute, `/v1/environments/${env.id}/settings/preset`, { token, body: { preset: "baseline" } }));
    expect([first.revision, second.revision]).toEqual([2, 3]);
    expect(second.settings).toEqual(first.settings);
  });
});
