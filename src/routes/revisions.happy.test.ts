// Settings history: list, read, diff and roll back, as a signed-in caller sees them.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment, setSettings } from "../../test/harness/fixtures.ts";
import { EnvironmentSettings } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";

const WARN = { enforcementAction: "warn", controls: { privilegedContainers: { enabled: true } } } as const;

describe.each(backends())("settings revisions ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  const base = (id: string) => `/v1/environments/${id}/settings` as const;

  it("lists revisions newest first, without documents", async () => {
    const env = await createEnvironment(api, "acme-list", { name: "prod" });
    await setSettings(api, "acme-list", env.id, WARN, "warn first");
    await setSettings(api, "acme-list", env.id, {}, "back to defaults");
    const res = await api.call(routes.revisions.listRoute, `${base(env.id)}/revisions`, { token: await api.token("acme-list", "viewer") });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.nextCursor).toBeNull();
    expect(body.items.map((i: { revision: number; comment: string }) => [i.revision, i.comment])).toEqual([
      [3, "back to defaults"],
      [2, "warn first"],
      [1, "created"],
    ]);
    for (const item of body.items) {
      expect(Object.keys(item).sort()).toEqual(["author", "comment", "createdAt", "revision"]);
      expect(item.author).toBe("fixture");
      expect(new Date(item.createdAt).toISOString()).toBe(item.createdAt);
    }
  });

  it("pages with limit and an opaque cursor until nextCursor is null", async () => {
    const env = await createEnvironment(api, "acme-page", { name: "prod" });
    for (let i = 2; i <= 5; i++) await setSettings(api, "acme-page", env.id, {}, `r${i}`);
    const token = await api.token("acme-page", "viewer");
    const pages: number[][] = [];
    let cursor: string | null = null;
    do {
      const qs: string = cursor ? `limit=2&cursor=${cursor}` : "limit=2";
      const body = await json(await api.call(routes.revisions.listRoute, `${base(env.id)}/revisions?${qs}`, { token }));
      pages.push(body.items.map((i: { revision: number }) => i.revision));
      cursor = body.nextCursor;
    } while (cursor && pages.length < 10);
    expect(pages).toEqual([[5, 4], [3, 2], [1]]);
    // Exactly `limit` rows left: the last full page says there is no next one.
    const exact = await json(await api.call(routes.revisions.listRoute, `${base(env.id)}/revisions?limit=5`, { token }));
    expect(exact.items).toHaveLength(5);
    expect(exact.nextCursor).toBeNull();
  });

  it("reads one revision with its normalised document and an ETag", async () => {
    const env = await createEnvironment(api, "acme-get", { name: "prod" });
    await setSettings(api, "acme-get", env.id, WARN, "warn");
    const res = await api.call(routes.revisions.getRoute, `${base(env.id)}/revisions/2`, { token: await api.token("acme-get", "viewer") });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"2"');
    const body = await json(res);
    expect(body).toEqual({ revision: 2, settings: EnvironmentSettings.parse(WARN), author: "fixture", comment: "warn", createdAt: expect.any(String) });
    // Defaults were filled in when stored: the history shows what applied.
    expect(body.settings.exemptions.namespaces.map((e: { pattern: string }) => e.pattern)).toContain("kube-system");
  });

  it("diffs two revisions both ways, and a revision with itself is empty", async () => {
    const env = await createEnvironment(api, "acme-diff", { name: "prod" });
    await setSettings(api, "acme-diff", env.id, WARN);
    const token = await api.token("acme-diff", "viewer");
    const res = await api.call(routes.revisions.diffRoute, `${base(env.id)}/diff?from=1&to=2`, { token });
    expect(res.status).toBe(200);
    const body = await json(res);
    const enabled = EnvironmentSettings.parse(WARN).controls.privilegedContainers;
    expect(body).toEqual({
      from: 1,
      to: 2,
      changes: [
        { path: "controls.privilegedContainers", after: enabled },
        { path: "enforcementAction", before: "deny", after: "warn" },
      ],
    });
    const back = await json(await api.call(routes.revisions.diffRoute, `${base(env.id)}/diff?from=2&to=1`, { token }));
    expect(back.changes).toEqual([
      { path: "controls.privilegedContainers", before: enabled },
      { path: "enforcementAction", before: "warn", after: "deny" },
    ]);
    expect((await json(await api.call(routes.revisions.diffRoute, `${base(env.id)}/diff?from=2&to=2`, { token }))).changes).toEqual([]);
  });

  it("rolls back by appending a new revision equal to the old one, audited", async () => {
    const env = await createEnvironment(api, "acme-rb", { name: "prod" });
    await setSettings(api, "acme-rb", env.id, WARN);
    const res = await api.call(routes.revisions.rollbackRoute, `${base(env.id)}/revisions/1/rollback`, {
      token: await api.token("acme-rb", "editor", { sub: "eddie" }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("etag")).toBe('"3"');
    expect(res.headers.get("location")).toBe(`${base(env.id)}/revisions/3`);
    const body = await json(res);
    expect(body).toEqual({
      revision: 3,
      settings: EnvironmentSettings.parse({}),
      author: "eddie",
      comment: "rollback to revision 1",
      createdAt: expect.any(String),
    });

    const viewer = await api.token("acme-rb", "viewer");
    const list = await json(await api.call(routes.revisions.listRoute, `${base(env.id)}/revisions`, { token: viewer }));
    expect(list.items.map((i: { revision: number }) => i.revision)).toEqual([3, 2, 1]);
    const stored = await json(await api.call(routes.revisions.getRoute, `${base(env.id)}/revisions/3`, { token: viewer }));
    expect(stored).toEqual(body);
    expect((await json(await api.call(routes.revisions.diffRoute, `${base(env.id)}/diff?from=1&to=3`, { token: viewer }))).changes).toEqual([]);

    const [entry] = (await auditRows(api, "acme-rb")).filter((a) => a.action === "settings.rollback");
    // Whole documents, as every settings.* entry; the audit log diffs them on read.
    expect(entry).toMatchObject({
      actor: "eddie",
      targetType: "environment",
      targetId: env.id,
      before: { revision: 2, settings: EnvironmentSettings.parse(WARN) },
    });
    expect(entry!.after).toEqual({ revision: 3, rolledBackTo: 1, settings: body.settings });
    const log = await json(await api.call(routes.auditLog.route, "/v1/audit-log?action=settings.rollback", { token: await api.token("acme-rb", "admin") }));
    expect(log.items[0]!.changes).toEqual(
      expect.arrayContaining([
        { path: "rolledBackTo", after: 1 },
        { path: "settings.enforcementAction", before: "warn", after: "deny" },
      ]),
    );
  });

  it("takes a comment and a matching If-Match; an API key is the author by its prefix", async () => {
    const env = await createEnvironment(api, "acme-rb2", { name: "prod" });
    await setSettings(api, "acme-rb2", env.id, WARN);
    const key = await api.apiKey("acme-rb2", "editor");
    const res = await api.call(routes.revisions.rollbackRoute, `${base(env.id)}/revisions/1/rollback`, {
      token: key,
      headers: { "if-match": '"2"' },
      body: { comment: "incident 42: warn mode let a privileged pod in" },
    });
    expect(res.status).toBe(201);
    const body = await json(res);
    expect(body).toMatchObject({ revision: 3, comment: "incident 42: warn mode let a privileged pod in", author: `apikey:${key.split("_")[1]}` });
    // `If-Match: *` means "whatever is current".
    const star = await api.call(routes.revisions.rollbackRoute, `${base(env.id)}/revisions/2/rollback`, { token: key, headers: { "if-match": "*" }, body: {} });
    expect(star.status).toBe(201);
    expect((await json(star)).settings).toEqual(EnvironmentSettings.parse(WARN));
  });

  it("documents every settings-history, preset and rendered route in /openapi.json", async () => {
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    // 429: every authenticated operation is rate limited per credential; 410: an expired draft.
    const want: [string, string, string[]][] = [
      ["/v1/environments/{id}/settings/revisions", "get", ["200", "400", "401", "403", "404", "429"]],
      ["/v1/environments/{id}/settings/revisions/{revision}", "get", ["200", "400", "401", "403", "404", "429"]],
      ["/v1/environments/{id}/settings/diff", "get", ["200", "400", "401", "403", "404", "429"]],
      ["/v1/environments/{id}/settings/revisions/{revision}/rollback", "post", ["201", "400", "401", "403", "404", "409", "412", "415", "429"]],
      ["/v1/presets", "get", ["200", "401", "403", "429"]],
      ["/v1/environments/{id}/settings/preset", "post", ["201", "400", "401", "403", "404", "409", "412", "415", "429"]],
      ["/v1/environments/{id}/rendered", "get", ["200", "304", "400", "401", "403", "404", "410", "429"]],
    ];
    for (const [path, method, statuses] of want) {
      const op = doc.paths[path]?.[method];
      expect(op, `${method} ${path}`).toBeDefined();
      expect(Object.keys(op.responses).sort()).toEqual(statuses);
    }
    const revisionParam = doc.paths["/v1/environments/{id}/settings/revisions/{revision}"].get.parameters.find((p: { name: string }) => p.name === "revision");
    expect(revisionParam.schema).toMatchObject({ type: "integer", minimum: 1 });
    expect(Object.keys(doc.paths["/v1/environments/{id}/rendered"].get.responses["200"].content).sort()).toEqual(["application/json", "application/yaml"]);
    expect(doc.components.schemas).toHaveProperty("EnvironmentSettings");
  });
});
