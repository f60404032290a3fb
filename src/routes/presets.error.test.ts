// Applying a preset: every validation rule with its path, unknown ids, preconditions, and proof
// that a refused request wrote no revision and no audit row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, setSettings, snapshot } from "../../test/harness/fixtures.ts";

const paths = (b: { errors?: { path: string }[] }) => (b.errors ?? []).map((e) => e.path).sort();

describe.each(backends())("presets errors ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  let editor: string;
  let before: Awaited<ReturnType<typeof snapshot>>;
  const T = "acme-preset-err";
  const apply = (opts: { body?: unknown; headers?: Record<string, string>; id?: string }) =>
    api.request("POST", `/v1/environments/${opts.id ?? envId}/settings/preset`, { token: editor, body: opts.body, headers: opts.headers });
  const unchanged = async () => expect(await snapshot(api, T, envId)).toEqual(before);

  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, T, { name: "prod" })).id;
    await setSettings(api, T, envId, { enforcementAction: "warn" });
    editor = await api.token(T, "editor");
    before = await snapshot(api, T, envId);
    expect(before).toMatchObject({ currentRevision: 2, revisions: 2 });
  });
  afterAll(() => api?.close());

  it.each([
    [{ preset: "strict" }, ["preset"]],
    [{ preset: "Baseline" }, ["preset"]],
    [{ preset: null }, ["preset"]],
    [{}, ["preset"]],
    [{ preset: "baseline", comment: 7 }, ["comment"]],
    [{ preset: "baseline", comment: "x".repeat(501) }, ["comment"]],
    [{ preset: "privileged", comment: false }, ["comment", "preset"]],
    [{ preset: "baseline", pssVersion: "v1.30" }, ["pssVersion"]],
    [{ preset: "baseline", pssVersion: "1.34" }, ["pssVersion"]],
    [{ preset: "baseline", pssVersion: null }, ["pssVersion"]],
    ["[]", ["(root)"]],
  ])("body %j is a 400 with paths %j", async (body, want) => {
    const res = await apply({ body });
    expect(paths(await expectProblem(res, 400))).toEqual(want);
    await unchanged();
  });

  it("an unknown body field is a 400 naming it", async () => {
    const body = await expectProblem(await apply({ body: { preset: "baseline", controls: {} } }), 400);
    expect(body.errors?.some((e) => e.message.includes("controls"))).toBe(true);
    await unchanged();
  });

  it("a missing body is a 400; malformed JSON a 400; a non-JSON body a 415", async () => {
    await expectProblem(await apply({}), 400);
    await expectProblem(await apply({ body: '{"preset":"baseline"' }), 400);
    await expectProblem(await apply({ body: "preset=baseline", headers: { "content-type": "application/x-www-form-urlencoded" } }), 415);
    await unchanged();
  });

  it("a malformed environment id is a 400 at path id; an unknown one a 404", async () => {
    expect(paths(await expectProblem(await apply({ id: "prod", body: { preset: "baseline" } }), 400))).toEqual(["id"]);
    await expectProblem(await apply({ id: "3c9a1e2b-4d5f-4a6b-8c7d-1e2f3a4b5c6d", body: { preset: "baseline" } }), 404);
    await unchanged();
  });

  it("412 for a stale If-Match with the current ETag; 400 at path If-Match for a malformed one", async () => {
    const stale = await apply({ body: { preset: "baseline" }, headers: { "if-match": '"1"' } });
    await expectProblem(stale, 412);
    expect(stale.headers.get("etag")).toBe('"2"');
    const bad = await expectProblem(await apply({ body: { preset: "baseline" }, headers: { "if-match": "latest" } }), 400);
    expect(paths(bad)).toEqual(["If-Match"]);
    await unchanged();
  });

  it("/v1/presets has no other methods and no sub-paths", async () => {
    const token = await api.token(T, "viewer");
    await expectProblem(await api.request("POST", "/v1/presets", { token: editor, body: { preset: "baseline" } }), 404);
    await expectProblem(await api.request("GET", "/v1/presets/baseline", { token }), 404);
    await unchanged();
  });
});
