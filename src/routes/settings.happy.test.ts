// /v1/environments/{id}/settings: read with ETags, replace with If-Match, patch one control.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment, environmentRow, revisionNumbers } from "../../test/harness/environments.ts";
import { EnvironmentSettings } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";

const url = (id: string) => `/v1/environments/${id}/settings` as const;
const EMPTY = EnvironmentSettings.parse({});

describe.each(backends())("/v1/environments/{id}/settings ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  it("GET returns the current revision with its ETag; If-None-Match with it → 304 without a body", async () => {
    const t = "acme-settings-get";
    const env = await createEnvironment(api, t, { comment: "init" });
    const token = await api.token(t, "viewer");
    const res = await api.call(routes.settings.getSettings, url(env.id), { token });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"1"');
    expect(res.headers.get("cache-control")).toBe("private, no-cache");
    expect(await json(res)).toEqual({ revision: 1, settings: EMPTY, author: "admin@acme-settings-get", comment: "init", createdAt: expect.any(String) });
    for (const inm of ['"1"', 'W/"1"', '"7", "1"', "*"]) {
      const cached = await api.request("GET", url(env.id), { token, headers: { "if-none-match": inm } });
      expect(cached.status, inm).toBe(304);
      expect(cached.headers.get("etag")).toBe('"1"');
      expect(await cached.text()).toBe("");
    }
    for (const inm of ['"2"', '"0"', "1", "garbage"]) {
      expect((await api.request("GET", url(env.id), { token, headers: { "if-none-match": inm } })).status, inm).toBe(200);
    }
  });

  it("documents GET with its If-None-Match header and 304 (the handler reads the header itself)", async () => {
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    const op = doc.paths["/v1/environments/{id}/settings"].get;
    expect(op.parameters.map((p: { in: string; name: string }) => `${p.in}:${p.name}`).sort()).toEqual(["header:if-none-match", "path:id"]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(["200", "304", "400", "401", "403", "404"]));
  });

  it("PUT with the current If-Match writes the next revision, normalised, and audits both documents", async () => {
    const t = "acme-settings-put";
    const env = await createEnvironment(api, t);
    const settings = { enforcementAction: "warn", controls: { capabilities: { options: { allowedAdd: ["cap_chown"] } }, privilegedContainers: {} } };
    const res = await api.call(routes.settings.putSettings, url(env.id), {
      token: await api.token(t, "editor", { sub: "eddie" }),
      headers: { "if-match": '"1"' },
      body: { settings, comment: "tighten" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"2"');
    const body = await json(res);
    const stored = EnvironmentSettings.parse(settings);
    expect(body).toEqual({ revision: 2, settings: stored, author: "eddie", comment: "tighten", createdAt: expect.any(String) });
    expect((body.settings.controls.capabilities!.options as { allowedAdd: string[] }).allowedAdd).toEqual(["CHOWN"]);
    expect(await json(await api.call(routes.settings.getSettings, url(env.id), { token: await api.token(t, "viewer") }))).toEqual(body);
    expect(await revisionNumbers(api, env.id)).toEqual([1, 2]);
    expect((await environmentRow(api, env.id))?.currentRevision).toBe(2);
    const entry = (await auditRows(api, t)).at(-1)!;
    expect(entry).toMatchObject({
      actor: "eddie",
      action: "settings.update",
      targetType: "environment",
      targetId: env.id,
      before: { revision: 1, settings: EMPTY },
      after: { revision: 2, settings: stored },
    });
    // The next writer bases its change on "2"; the environment shows the new revision.
    const next = await api.call(routes.settings.putSettings, url(env.id), {
      token: await api.token(t, "admin"),
      headers: { "if-match": '"2"' },
      body: { settings: {} },
    });
    expect(next.status).toBe(200);
    expect((await json(next)).comment).toBe("");
    const envNow = await json(await api.call(routes.environments.getEnv, `/v1/environments/${env.id}`, { token: await api.token(t, "viewer") }));
    expect(envNow.currentRevision).toBe(3);
  });

  it("an editor API key can PUT; it is the author", async () => {
    const t = "acme-settings-key";
    const env = await createEnvironment(api, t);
    const key = await api.apiKey(t, "editor");
    const res = await api.call(routes.settings.putSettings, url(env.id), {
      token: key,
      headers: { "if-match": '"1"' },
      body: { settings: { enforcementAction: "dryrun" } },
    });
    expect(res.status).toBe(200);
    expect((await json(res)).author).toMatch(/^apikey:/);
  });

  it("PATCH merges one control: given fields replace, absent ones stay, null resets, a null body removes", async () => {
    const t = "acme-settings-patch";
    const env = await createEnvironment(api, t);
    const token = await api.token(t, "editor", { sub: "pat" });
    const patch = async (body: unknown, headers: Record<string, string> = {}) => {
      const res = await api.call(routes.settings.patchControl, `${url(env.id)}/controls/capabilities`, { token, body: JSON.stringify(body), headers });
      expect(res.status, await res.clone().text()).toBe(200);
      return { etag: res.headers.get("etag"), body: await json(res) };
    };

    const added = await patch({ options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] } });
    expect(added.etag).toBe('"2"');
    expect(added.body).toMatchObject({ revision: 2, author: "pat", comment: "Changed control capabilities" });
    expect(added.body.settings.controls).toEqual({
      capabilities: {
        enabled: true,
        exemptions: { namespaces: [], images: [] },
        options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"], names: "normalised" },
      },
    });

    const disabled = await patch({ enabled: false, enforcementAction: "warn" }, { "if-match": '"2"' });
    expect(disabled.body.settings.controls.capabilities).toMatchObject({
      enabled: false,
      enforcementAction: "warn",
      options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] },
    });

    const merged = await patch({ enforcementAction: null, options: { requiredDrop: [] } });
    expect(merged.body.settings.controls.capabilities!.enforcementAction).toBeUndefined();
    expect(merged.body.settings.controls.capabilities!.options).toEqual({ allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: [], names: "normalised" });

    const removed = await patch(null, { "if-match": "*" });
    expect(removed.body).toMatchObject({ revision: 5, comment: "Removed control capabilities", settings: EMPTY });

    expect(await revisionNumbers(api, env.id)).toEqual([1, 2, 3, 4, 5]);
    const patches = (await auditRows(api, t)).filter((a) => a.action === "settings.patch");
    expect(patches.map((a) => [(a.before as { revision: number }).revision, (a.after as { revision: number }).revision])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    expect(patches.at(-1)).toMatchObject({ actor: "pat", targetId: env.id, after: { settings: EMPTY } });
  });

  it("PATCH leaves the other controls and the environment-wide knobs alone", async () => {
    const t = "acme-settings-patch2";
    const env = await createEnvironment(api, t, { preset: "baseline", settings: { enforcementAction: "dryrun" } });
    const before = (await json(await api.call(routes.settings.getSettings, url(env.id), { token: await api.token(t, "viewer") }))).settings;
    const res = await api.call(routes.settings.patchControl, `${url(env.id)}/controls/seccomp`, {
      token: await api.token(t, "editor"),
      body: { options: { allowUnset: false } },
    });
    expect(res.status).toBe(200);
    const after = (await json(res)).settings;
    expect(after.controls.seccomp!.options).toEqual({ ...(before.controls.seccomp!.options as object), allowUnset: false });
    expect({ ...after, controls: { ...after.controls, seccomp: undefined } }).toEqual({ ...before, controls: { ...before.controls, seccomp: undefined } });
  });
});
