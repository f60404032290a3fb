// Settings writes refused: missing/bad/stale If-Match, invalid documents and control patches,
// unknown ids and controls. Each answers problem+json with paths and writes nothing.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditCount, createEnvironment, revisionNumbers, type EnvJson } from "../../test/harness/environments.ts";
import { catalogue } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";

const T = "acme-settings-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";
const url = (id: string) => `/v1/environments/${id}/settings` as const;

const badDocuments: [string, unknown, string][] = [
  ["no settings", { comment: "x" }, "settings"],
  ["settings null", { settings: null }, "settings"],
  ["unknown top-level field", { settings: {}, force: true }, "(root)"],
  ["comment of 501 characters", { settings: {}, comment: "c".repeat(501) }, "comment"],
  ["unknown settings field", { settings: { mode: "audit" } }, "settings"],
  ["bad enforcement action", { settings: { enforcementAction: "block" } }, "settings.enforcementAction"],
  ["bad exemption", { settings: { exemptions: { namespaces: [{ pattern: "Kube System" }] } } }, "settings.exemptions.namespaces[0].pattern"],
  ["unknown control", { settings: { controls: { rootless: {} } } }, "settings.controls"],
  ["unknown control field", { settings: { controls: { seccomp: { strict: true } } } }, "settings.controls.seccomp"],
  [
    "bad capability",
    { settings: { controls: { capabilities: { options: { allowedAdd: ["NET ADMIN"] } } } } },
    "settings.controls.capabilities.options.allowedAdd[0]",
  ],
  ["enabled not a boolean", { settings: { controls: { seccomp: { enabled: "yes" } } } }, "settings.controls.seccomp.enabled"],
  ["bad enforcement point", { settings: { enforcementPoint: "kubelet" } }, "settings.enforcementPoint"],
  [
    "API server for a Rego-only control",
    { settings: { controls: { volumeTypes: { enforcementPoint: "apiserver" } } } },
    "settings.controls.volumeTypes.enforcementPoint",
  ],
];

const badPatches: [string, unknown, string][] = [
  ["enabled not a boolean", { enabled: "yes" }, "enabled"],
  ["bad enforcement action", { enforcementAction: "block" }, "enforcementAction"],
  ["unknown field", { mode: "strict" }, "(root)"],
  ["options not an object", { options: ["NET_ADMIN"] }, "options"],
  ["bad capability", { options: { allowedAdd: ["NET ADMIN"] } }, "options.allowedAdd[0]"],
  ["unknown option", { options: { allowAll: true } }, "options"],
  ["bad exemption", { exemptions: { images: [{ pattern: "a b" }] } }, "exemptions.images[0].pattern"],
  ["bad enforcement point", { enforcementPoint: "kubelet" }, "enforcementPoint"],
  ["a string", "capabilities", "(root)"],
  ["an array", [{ enabled: true }], "(root)"],
];

describe.each(backends())("settings errors ($name)", (backend) => {
  let api: TestApi;
  let editor: string;
  let env: EnvJson;
  beforeAll(async () => {
    api = await createTestApi(backend);
    editor = await api.token(T, "editor");
    env = await createEnvironment(api, T, { settings: { controls: { capabilities: { options: { allowedAdd: ["CHOWN"] } } } } });
  });
  afterAll(() => api?.close());

  /** Runs fn and proves it wrote nothing: same revisions, same audit log, same document. */
  async function nothingWritten(fn: () => Promise<void>): Promise<void> {
    const before = {
      revisions: await revisionNumbers(api, env.id),
      audits: await auditCount(api, T),
      doc: await json(await api.call(routes.settings.getSettings, url(env.id), { token: editor })),
    };
    await fn();
    expect(await revisionNumbers(api, env.id)).toEqual(before.revisions);
    expect(await auditCount(api, T)).toBe(before.audits);
    expect(await json(await api.call(routes.settings.getSettings, url(env.id), { token: editor }))).toEqual(before.doc);
  }
  const current = async () => `"${(await revisionNumbers(api, env.id)).at(-1)}"`;

  it("PUT without If-Match → 428", async () => {
    await nothingWritten(async () => {
      const problem = await expectProblem(await api.request("PUT", url(env.id), { token: editor, body: { settings: {} } }), 428);
      expect(problem.detail).toMatch(/If-Match/);
    });
  });

  it.each(["3", '"abc"', '"-1"', "*", '"1", "2"', '""', '"1'])("PUT with If-Match %s → 400 at If-Match", async (ifMatch) => {
    await nothingWritten(async () => {
      const problem = await expectProblem(
        await api.request("PUT", url(env.id), { token: editor, headers: { "if-match": ifMatch }, body: { settings: {} } }),
        400,
      );
      expect(problem.errors).toEqual([{ path: "If-Match", message: expect.any(String) }]);
    });
  });

  it("PUT with a stale or future If-Match → 412 naming the current revision, with its ETag", async () => {
    const ok = await api.call(routes.settings.putSettings, url(env.id), { token: editor, headers: { "if-match": await current() }, body: { settings: {} } });
    expect(ok.status).toBe(200);
    const now = (await json(ok)).revision as number;
    for (const stale of [`"${now - 1}"`, `"${now + 1}"`, '"0"']) {
      await nothingWritten(async () => {
        const res = await api.request("PUT", url(env.id), { token: editor, headers: { "if-match": stale }, body: { settings: {} } });
        const problem = await expectProblem(res, 412);
        expect(problem.detail).toContain(`revision ${now}`);
        expect(res.headers.get("etag")).toBe(`"${now}"`);
      });
    }
  });

  it.each(badDocuments)("PUT %s → 400 at %s", async (_, body, path) => {
    await nothingWritten(async () => {
      const res = await api.request("PUT", url(env.id), { token: editor, headers: { "if-match": await current() }, body: JSON.stringify(body) });
      const problem = await expectProblem(res, 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    });
  });

  it("PUT/GET/PATCH on a malformed id → 400 at id; on an unknown id → 404", async () => {
    await nothingWritten(async () => {
      for (const [method, suffix, body] of [
        ["GET", "", undefined],
        ["PUT", "", { settings: {} }],
        ["PATCH", "/controls/seccomp", {}],
      ] as const) {
        const headers = { "if-match": '"1"' };
        const bad = await expectProblem(await api.request(method, `${url("nope")}${suffix}`, { token: editor, headers, body }), 400);
        expect(bad.errors?.map((e) => e.path)).toContain("id");
        await expectProblem(await api.request(method, `${url(MISSING)}${suffix}`, { token: editor, headers, body }), 404);
      }
    });
  });

  it("PATCH an unknown control → 404 naming the valid ones (checked before the environment)", async () => {
    await nothingWritten(async () => {
      for (const id of [env.id, MISSING]) {
        const problem = await expectProblem(await api.request("PATCH", `${url(id)}/controls/rootless`, { token: editor, body: { enabled: true } }), 404);
        expect(problem.detail).toContain('"rootless"');
        for (const c of catalogue) expect(problem.detail).toContain(c.id);
      }
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/Capabilities`, { token: editor, body: {} }), 404);
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/__proto__`, { token: editor, body: {} }), 404);
    });
  });

  it.each(badPatches)("PATCH with %s → 400 at %s", async (_, body, path) => {
    await nothingWritten(async () => {
      const res = await api.request("PATCH", `${url(env.id)}/controls/capabilities`, { token: editor, body: JSON.stringify(body) });
      const problem = await expectProblem(res, 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    });
  });

  it("PATCH the API server onto a Rego-only control → 400 saying it has no CEL", async () => {
    await nothingWritten(async () => {
      for (const enforcementPoint of ["apiserver", "both"]) {
        const problem = await expectProblem(
          await api.request("PATCH", `${url(env.id)}/controls/volumeTypes`, { token: editor, body: { enforcementPoint } }),
          400,
        );
        expect(problem.errors?.find((e) => e.path === "enforcementPoint")?.message).toContain("volume-types has no CEL");
      }
    });
  });

  it("PATCH without a body → 400; malformed JSON → 400; not JSON → 415", async () => {
    await nothingWritten(async () => {
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/capabilities`, { token: editor }), 400);
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/capabilities`, { token: editor, body: "{" }), 400);
      await expectProblem(
        await api.request("PATCH", `${url(env.id)}/controls/capabilities`, { token: editor, body: "enabled=true", headers: { "content-type": "text/plain" } }),
        415,
      );
    });
  });

  it("PATCH with a stale If-Match → 412; with a malformed one → 400", async () => {
    await nothingWritten(async () => {
      const res = await api.request("PATCH", `${url(env.id)}/controls/seccomp`, { token: editor, headers: { "if-match": '"1"' }, body: {} });
      expect((await expectProblem(res, 412)).detail).toMatch(/revision \d+/);
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/seccomp`, { token: editor, headers: { "if-match": "latest" }, body: {} }), 400);
    });
  });

  it("a database failure is a 500 that leaks nothing (last: it closes the database)", async () => {
    await api.db.close();
    const res = await api.request("PUT", url(env.id), { token: editor, headers: { "if-match": '"1"' }, body: { settings: {} } });
    const problem = await expectProblem(res, 500);
    expect(problem.detail).not.toMatch(/pglite|postgres|closed|sql/i);
  });
});
