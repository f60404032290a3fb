// Settings history: every validation rule (with its problem path), unknown ids and revisions,
// preconditions, and proof that a refused rollback wrote nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, setSettings, snapshot } from "../../test/harness/fixtures.ts";
import { appendRevision } from "../services/revisions.ts";
import * as routes from "../../test/harness/routes.ts";

const MISSING = "7d2b9c4e-1f3a-4b6c-9d8e-0a1b2c3d4e5f";
const paths = (b: { errors?: { path: string }[] }) => (b.errors ?? []).map((e) => e.path).sort();

describe.each(backends())("settings revisions errors ($name)", (backend) => {
  let api: TestApi;
  let env: { id: string };
  let viewer: string;
  let editor: string;
  const T = "acme-rev-err";
  const base = (id: string) => `/v1/environments/${id}/settings` as const;
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, T, { name: "prod" });
    await setSettings(api, T, env.id, { enforcementAction: "warn" });
    viewer = await api.token(T, "viewer");
    editor = await api.token(T, "editor");
  });
  afterAll(() => api?.close());

  it.each([
    ["GET", "/revisions"],
    ["GET", "/revisions/1"],
    ["GET", "/diff?from=1&to=2"],
    ["POST", "/revisions/1/rollback"],
  ])("%s %s: a malformed environment id is a 400 at path id", async (method, suffix) => {
    const body = await expectProblem(await api.request(method, `${base("not-a-uuid")}${suffix}`, { token: editor }), 400);
    expect(paths(body)).toEqual(["id"]);
  });

  it.each([
    ["GET", "/revisions"],
    ["GET", "/revisions/1"],
    ["GET", "/diff?from=1&to=2"],
    ["POST", "/revisions/1/rollback"],
  ])("%s %s: an unknown environment is a 404", async (method, suffix) => {
    const body = await expectProblem(await api.request(method, `${base(MISSING)}${suffix}`, { token: editor }), 404);
    expect(body.detail).toBe(`No environment ${MISSING}.`);
  });

  it.each(["0", "-1", "abc", "1.5", "1e3", "0x10", "%201", "01", "2147483648", "99999999999"])(
    "revision %j is a 400 at path revision (read and rollback)",
    async (rev) => {
      for (const [method, suffix] of [
        ["GET", ""],
        ["POST", "/rollback"],
      ] as const) {
        const body = await expectProblem(await api.request(method, `${base(env.id)}/revisions/${rev}${suffix}`, { token: editor }), 400);
        expect(paths(body)).toEqual(["revision"]);
      }
    },
  );

  it("an unknown revision is a 404 on read and diff", async () => {
    const read = await expectProblem(await api.request("GET", `${base(env.id)}/revisions/3`, { token: viewer }), 404);
    expect(read.detail).toBe(`Environment ${env.id} has no revision 3.`);
    await expectProblem(await api.request("GET", `${base(env.id)}/revisions/2147483647`, { token: viewer }), 404);
    await expectProblem(await api.request("GET", `${base(env.id)}/diff?from=1&to=9`, { token: viewer }), 404);
    await expectProblem(await api.request("GET", `${base(env.id)}/diff?from=9&to=1`, { token: viewer }), 404);
  });

  it.each([
    ["", ["from", "to"]],
    ["?from=1", ["to"]],
    ["?from=0&to=abc", ["from", "to"]],
    ["?from=-2&to=1.0", ["from", "to"]],
    ["?from=1&to=2&extra=1", ["(root)"]], // unknown parameters are refused, not ignored: typos show
  ])("diff%s is a 400 with paths %j", async (qs, want) => {
    const body = await expectProblem(await api.request("GET", `${base(env.id)}/diff${qs}`, { token: viewer }), 400);
    expect(paths(body)).toEqual(want);
  });

  it.each([
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=ten", "limit"],
    ["cursor=", "cursor"],
    ["cursor=bm90LWpzb24", "cursor"], // base64url of "not-json"
    [`cursor=${Buffer.from(JSON.stringify({ before: "x" })).toString("base64url")}`, "cursor"],
    [`cursor=${Buffer.from(JSON.stringify({ before: 1 })).toString("base64url")}`, "cursor"],
  ])("list ?%s is a 400 at path %s", async (qs, path) => {
    const body = await expectProblem(await api.request("GET", `${base(env.id)}/revisions?${qs}`, { token: viewer }), 400);
    expect(paths(body)).toEqual([path]);
  });

  describe("a refused rollback writes nothing", () => {
    let before: Awaited<ReturnType<typeof snapshot>>;
    beforeAll(async () => {
      before = await snapshot(api, T, env.id);
      expect(before).toMatchObject({ currentRevision: 2, revisions: 2 });
    });
    const rollback = (rev: string, opts: { headers?: Record<string, string>; body?: unknown } = {}) =>
      api.request("POST", `${base(env.id)}/revisions/${rev}/rollback`, { token: editor, ...opts });
    const unchanged = async () => expect(await snapshot(api, T, env.id)).toEqual(before);

    it("404 for an unknown revision", async () => {
      await expectProblem(await rollback("3"), 404);
      await unchanged();
    });

    it("412 for a stale If-Match, with the current ETag", async () => {
      const res = await rollback("1", { headers: { "if-match": '"1"' } });
      const body = await expectProblem(res, 412);
      expect(body.detail).toContain("at revision 2");
      expect(res.headers.get("etag")).toBe('"2"');
      await unchanged();
    });

    it.each(["2", "'2'", '"2", "3"', '"abc"', '"-1"'])("400 at path If-Match for If-Match %j", async (value) => {
      const body = await expectProblem(await rollback("1", { headers: { "if-match": value } }), 400);
      expect(paths(body)).toEqual(["If-Match"]);
      await unchanged();
    });

    it("400 for an unknown body field, and for a comment that is not a short string", async () => {
      const extra = await expectProblem(await rollback("1", { body: { comment: "x", revision: 2 } }), 400);
      expect(extra.errors?.[0]?.message).toMatch(/revision/);
      expect(paths(await expectProblem(await rollback("1", { body: { comment: 42 } }), 400))).toEqual(["comment"]);
      expect(paths(await expectProblem(await rollback("1", { body: { comment: "x".repeat(501) } }), 400))).toEqual(["comment"]);
      expect(paths(await expectProblem(await rollback("1", { body: [] }), 400))).toEqual(["(root)"]);
      await unchanged();
    });

    it("400 for malformed JSON, 415 for a non-JSON body", async () => {
      await expectProblem(await rollback("1", { body: '{"comment":' }), 400);
      await expectProblem(await rollback("1", { body: "comment=x", headers: { "content-type": "text/plain" } }), 415);
      await unchanged();
    });

    it("409 with paths when the old document no longer validates (catalogue changed since)", async () => {
      const e2 = await createEnvironment(api, T, { name: "legacy" });
      // A revision written under an older catalogue: a control this one does not know.
      await api.db.withTenant(await api.tenantId(T), (tx) =>
        appendRevision(tx, {
          tenantId: e2.tenantId,
          environmentId: e2.id,
          document: { controls: { retiredControl: {} } } as never,
          author: "old",
          comment: "",
        }),
      );
      await setSettings(api, T, e2.id, {});
      const was = await snapshot(api, T, e2.id);
      const res = await api.request("POST", `${base(e2.id)}/revisions/2/rollback`, { token: editor });
      const body = await expectProblem(res, 409);
      expect(body.errors?.[0]?.message).toMatch(/retiredControl/);
      expect(await snapshot(api, T, e2.id)).toEqual(was);
    });
  });

  it("concurrent rollbacks with the same If-Match: exactly one wins, the other gets 412", async () => {
    const e3 = await createEnvironment(api, T, { name: "race" });
    await setSettings(api, T, e3.id, { enforcementAction: "dryrun" });
    const go = () => api.request("POST", `${base(e3.id)}/revisions/1/rollback`, { token: editor, headers: { "if-match": '"2"' } });
    const statuses = (await Promise.all([go(), go(), go()])).map((r) => r.status).sort();
    expect(statuses).toEqual([201, 412, 412]);
    expect(await snapshot(api, T, e3.id)).toMatchObject({ currentRevision: 3, revisions: 3 });
    const list = await json(await api.call(routes.revisions.listRoute, `${base(e3.id)}/revisions`, { token: viewer }));
    expect(list.items.map((i: { revision: number }) => i.revision)).toEqual([3, 2, 1]);
  });
});
