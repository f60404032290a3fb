// Concurrent writers: If-Match makes PUT a compare-and-set (one winner, the rest 412, one new
// revision), and PATCH without If-Match serialises on the environment row (no patch lost).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows, createEnvironment, revisionNumbers } from "../../test/harness/environments.ts";
import * as routes from "../../test/harness/routes.ts";

const url = (id: string) => `/v1/environments/${id}/settings` as const;

describe.each(backends())("settings under concurrency ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  it("100 concurrent PUTs with the same If-Match: exactly one 200, 99 × 412, one new revision", async () => {
    const t = "acme-race-put";
    const env = await createEnvironment(api, t);
    const token = await api.token(t, "editor");
    const actions = ["deny", "warn", "dryrun"] as const;
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        api.call(routes.settings.putSettings, url(env.id), {
          token,
          headers: { "if-match": '"1"' },
          body: { settings: { enforcementAction: actions[i % 3] }, comment: `writer ${i}` },
        }),
      ),
    );
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 412)).toHaveLength(99);
    const winner = responses[statuses.indexOf(200)]!;
    const won = await json(winner);
    expect(won.revision).toBe(2);
    for (const loser of responses.filter((r) => r.status === 412)) {
      const problem = await expectProblem(loser, 412);
      expect(problem.detail).toMatch(/revision 2/);
      expect(loser.headers.get("etag")).toBe('"2"');
    }
    expect(await revisionNumbers(api, env.id)).toEqual([1, 2]);
    const current = await json(await api.call(routes.settings.getSettings, url(env.id), { token }));
    expect(current).toEqual(won);
    expect((await auditRows(api, t)).filter((a) => a.action === "settings.update")).toHaveLength(1);
  });

  it("concurrent PATCHes of different controls without If-Match all apply, one revision each", async () => {
    const t = "acme-race-patch";
    const env = await createEnvironment(api, t);
    const token = await api.token(t, "editor");
    const controls = ["privilegedContainers", "hostNamespaces", "hostPaths", "capabilities", "seccomp", "procMount", "sysctls", "appArmor"];
    const responses = await Promise.all(
      controls.map((c) => api.call(routes.settings.patchControl, `${url(env.id)}/controls/${c}`, { token, body: { enforcementAction: "warn" } })),
    );
    expect(responses.map((r) => r.status)).toEqual(controls.map(() => 200));
    const revisions = (await Promise.all(responses.map(async (r) => (await json(r)).revision))).sort((a, b) => a - b);
    expect(revisions).toEqual(controls.map((_, i) => i + 2));
    const { settings } = await json(await api.call(routes.settings.getSettings, url(env.id), { token }));
    expect(Object.keys(settings.controls).sort()).toEqual([...controls].sort());
    expect(await revisionNumbers(api, env.id)).toEqual([1, ...revisions]);
  });
});
