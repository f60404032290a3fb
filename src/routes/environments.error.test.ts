// /v1/environments refusing bad input: every rule answers 400/404/409/415 problem+json with the
// field path, and a refused request writes nothing (no environment, revision or audit row).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditCount, createEnvironment, environmentRow, revisionNumbers, uniqueName } from "../../test/harness/environments.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

const T = "acme-envs-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";
const labels33 = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, "v"]));

// [case, body, path of the first error]
const badCreates: [string, Record<string, unknown>, string][] = [
  ["name missing", { description: "x" }, "name"],
  ["name empty", { name: "" }, "name"],
  ["name upper case", { name: "Prod" }, "name"],
  ["name with a dot", { name: "prod.eu" }, "name"],
  ["name starting with '-'", { name: "-prod" }, "name"],
  ["name ending with '-'", { name: "prod-" }, "name"],
  ["name of 64 characters", { name: "a".repeat(64) }, "name"],
  ["name not a string", { name: 7 }, "name"],
  ["description of 501 characters", { name: "ok", description: "d".repeat(501) }, "description"],
  ["labels not an object", { name: "ok", labels: ["a"] }, "labels"],
  ["label key with a space", { name: "ok", labels: { "bad key": "v" } }, "labels.bad key"],
  ["label key with an empty name", { name: "ok", labels: { "example.com/": "v" } }, "labels.example.com/"],
  ["label key prefix not a DNS name", { name: "ok", labels: { "Example_com/team": "v" } }, "labels.Example_com/team"],
  ["label value of 64 characters", { name: "ok", labels: { tier: "v".repeat(64) } }, "labels.tier"],
  ["label value with a slash", { name: "ok", labels: { tier: "a/b" } }, "labels.tier"],
  ["label value not a string", { name: "ok", labels: { tier: 1 } }, "labels.tier"],
  ["33 labels", { name: "ok", labels: labels33 }, "labels"],
  ["unknown preset", { name: "ok", preset: "privileged" }, "preset"],
  ["comment of 501 characters", { name: "ok", comment: "c".repeat(501) }, "comment"],
  ["unknown field", { name: "ok", owner: "me" }, "(root)"],
  ["settings not an object", { name: "ok", settings: "strict" }, "settings"],
  ["unknown settings field", { name: "ok", settings: { mode: "strict" } }, "settings"],
  ["unknown control", { name: "ok", settings: { controls: { noRoot: {} } } }, "settings.controls"],
  ["bad enforcement action", { name: "ok", settings: { enforcementAction: "block" } }, "settings.enforcementAction"],
  [
    "bad capability",
    { name: "ok", settings: { controls: { capabilities: { options: { allowedAdd: ["NET ADMIN"] } } } } },
    "settings.controls.capabilities.options.allowedAdd[0]",
  ],
  [
    "bad capability even with a preset",
    { name: "ok", preset: "baseline", settings: { controls: { capabilities: { options: { allowedAdd: [7] } } } } },
    "settings.controls.capabilities.options.allowedAdd[0]",
  ],
];

describe.each(backends())("/v1/environments errors ($name)", (backend) => {
  let api: TestApi;
  let admin: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    admin = await api.token(T, "admin");
  });
  afterAll(() => api?.close());

  async function unchanged<R>(fn: () => Promise<R>): Promise<R> {
    const audits = await auditCount(api, T);
    const list = await json(await api.call(routes.environments.listEnvs, "/v1/environments", { token: admin }));
    const result = await fn();
    expect(await auditCount(api, T)).toBe(audits);
    expect(await json(await api.call(routes.environments.listEnvs, "/v1/environments", { token: admin }))).toEqual(list);
    return result;
  }

  it.each(badCreates)("POST %s → 400 at %s, nothing written", async (_, body, path) => {
    await unchanged(async () => {
      const problem = await expectProblem(await api.request("POST", "/v1/environments", { token: admin, body }), 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    });
  });

  it("a bad label key is named with the label-key rule, not only as an invalid key", async () => {
    const problem = await expectProblem(await api.request("POST", "/v1/environments", { token: admin, body: { name: "ok", labels: { "bad key": "v" } } }), 400);
    expect(problem.errors).toEqual([{ path: "labels.bad key", message: expect.stringMatching(/^must be a Kubernetes label key/) }]);
  });

  it("POST a name the tenant already has → 409; another tenant may use it", async () => {
    const env = await createEnvironment(api, T);
    await unchanged(async () => {
      const problem = await expectProblem(await api.request("POST", "/v1/environments", { token: admin, body: { name: env.name } }), 409);
      expect(problem.detail).toContain(env.name);
    });
    const other = await api.request("POST", "/v1/environments", { token: await api.token("other-envs-errors", "admin"), body: { name: env.name } });
    expect(other.status).toBe(201);
  });

  it("POST without JSON: malformed → 400, no body → 400, wrong media type → 415", async () => {
    await unchanged(async () => {
      await expectProblem(await api.request("POST", "/v1/environments", { token: admin, body: '{"name": "x"' }), 400);
      await expectProblem(await api.request("POST", "/v1/environments", { token: admin }), 400);
      await expectProblem(
        await api.request("POST", "/v1/environments", { token: admin, body: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } }),
        415,
      );
      await expectProblem(await api.request("POST", "/v1/environments", { token: admin, body: "null" }), 400);
    });
  });

  it("a malformed id → 400 at id; an unknown id → 404 for every verb", async () => {
    for (const [method, body] of [["GET"], ["PATCH", { description: "x" }], ["DELETE"]] as const) {
      await unchanged(async () => {
        const bad = await expectProblem(await api.request(method, "/v1/environments/not-a-uuid", { token: admin, body }), 400);
        expect(bad.errors?.map((e) => e.path)).toEqual(["id"]);
        await expectProblem(await api.request(method, `/v1/environments/${MISSING}`, { token: admin, body }), 404);
      });
    }
  });

  it.each([
    ["empty body", {}, "(root)"],
    ["bad name", { name: "Not OK" }, "name"],
    ["bad labels", { labels: { tier: "v".repeat(64) } }, "labels.tier"],
    ["unknown field", { currentRevision: 9 }, "(root)"],
    ["description too long", { description: "d".repeat(501) }, "description"],
  ])("PATCH %s → 400 at %s, nothing changed", async (_, body, path) => {
    const env = await createEnvironment(api, T);
    await unchanged(async () => {
      const problem = await expectProblem(await api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body }), 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    });
    expect(await json(await api.call(routes.environments.getEnv, `/v1/environments/${env.id}`, { token: admin }))).toEqual(env);
  });

  it("PATCH to a name the tenant already has → 409, nothing changed", async () => {
    const a = await createEnvironment(api, T);
    const b = await createEnvironment(api, T);
    await unchanged(async () => {
      await expectProblem(await api.request("PATCH", `/v1/environments/${b.id}`, { token: admin, body: { name: a.name, description: "lost?" } }), 409);
    });
    expect(await environmentRow(api, b.id)).toMatchObject({ name: b.name, description: "" });
  });

  it("DELETE twice: the second is 404; revisions are not recreated", async () => {
    const env = await createEnvironment(api, T);
    expect((await api.request("DELETE", `/v1/environments/${env.id}`, { token: admin })).status).toBe(204);
    await unchanged(async () => {
      await expectProblem(await api.request("DELETE", `/v1/environments/${env.id}`, { token: admin }), 404);
    });
    expect(await revisionNumbers(api, env.id)).toEqual([]);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=ten", "limit"],
    ["cursor=", "cursor"],
    ["cursor=garbage!", "cursor"],
    [`cursor=${encodeCursor({ name: "x", id: "not-a-uuid" })}`, "cursor"],
    [`cursor=${encodeCursor({ revision: 3 })}`, "cursor"],
    ["label=tier", "label[0]"],
    ["label==prod", "label[0]"],
    ["label=tier=prod&label=bad key=x", "label[1]"],
    [`label=tier=${"v".repeat(64)}`, "label[0]"],
    ["sort=name", "(root)"],
  ])("GET ?%s → 400 at %s", async (query, path) => {
    const problem = await expectProblem(await api.request("GET", `/v1/environments?${query}`, { token: admin }), 400);
    expect(problem.errors?.map((e) => e.path)).toContain(path);
  });

  it("an empty label value is a valid filter", async () => {
    const env = await createEnvironment(api, T, { name: uniqueName("empty-label"), labels: { flag: "" } });
    const page = await json(await api.call(routes.environments.listEnvs, "/v1/environments?label=flag=", { token: admin }));
    expect(page.items.map((e: { id: string }) => e.id)).toEqual([env.id]);
  });
});
