// Settings routes refuse every bad credential and every role below the minimum, and another
// tenant can neither read nor write an environment's settings (404; the owner's are unchanged).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditCount, createEnvironment, revisionNumbers, type EnvJson } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const OWNER = "acme-setsec";
const OTHER = "other-setsec";
const bad = await badCredentials(OWNER);
const url = (id: string) => `/v1/environments/${id}/settings` as const;

interface Call {
  name: string;
  method: string;
  path: (id: string) => string;
  body?: unknown;
  min: Role;
}
const CALLS: Call[] = [
  { name: "GET settings", method: "GET", path: url, min: "viewer" },
  { name: "PUT settings", method: "PUT", path: url, body: { settings: { enforcementAction: "dryrun" } }, min: "editor" },
  { name: "PATCH control", method: "PATCH", path: (id) => `${url(id)}/controls/privilegedContainers`, body: { enabled: false }, min: "editor" },
];

describe.each(backends())("settings security ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  let ownerDoc: unknown;
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, OWNER, { preset: "baseline" });
    ownerDoc = await json(await api.call(routeDefs.settings.getSettings, url(env.id), { token: await api.token(OWNER, "viewer") }));
  });
  afterAll(() => api?.close());

  async function ownerUnchanged(): Promise<void> {
    expect(await json(await api.call(routeDefs.settings.getSettings, url(env.id), { token: await api.token(OWNER, "viewer") }))).toEqual(ownerDoc);
    expect(await revisionNumbers(api, env.id)).toEqual([1]);
  }

  it.each(bad)("401 for $name on every route", async ({ headers, detail }) => {
    for (const call of CALLS) {
      const res = await api.request(call.method, call.path(env.id), { headers: { ...headers, "if-match": '"1"' }, body: call.body });
      expect((await expectProblem(res, 401)).detail).toMatch(detail);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="gatehouse"/);
    }
    await ownerUnchanged();
  });

  it("401 for a revoked API key, even an admin one", async () => {
    const key = await api.apiKey(OWNER, "admin", { revoked: true });
    for (const call of CALLS)
      await expectProblem(await api.request(call.method, call.path(env.id), { token: key, headers: { "if-match": '"1"' }, body: call.body }), 401);
    await ownerUnchanged();
  });

  it.each(CALLS.flatMap((call) => ROLES.map((role) => ({ ...call, role }))))(
    "$name as $role: $min or above → 200, below → 403 and nothing written",
    async (call) => {
      const t = `acme-setsec-${call.role}-${call.method.toLowerCase()}`;
      const target = await createEnvironment(api, t);
      const audits = await auditCount(api, t);
      const res = await api.request(call.method, call.path(target.id), {
        token: await api.token(t, call.role),
        headers: { "if-match": '"1"' },
        body: call.body,
      });
      if (hasRole({ role: call.role } as never, call.min)) {
        expect(res.status).toBe(200);
      } else {
        expect((await expectProblem(res, 403)).detail).toContain(call.min);
        expect(await revisionNumbers(api, target.id)).toEqual([1]);
        expect(await auditCount(api, t)).toBe(audits);
      }
    },
  );

  it("another tenant's admin (token or API key) gets 404 for every verb, even with the right If-Match", async () => {
    const ownerAudits = await auditCount(api, OWNER);
    for (const token of [await api.token(OTHER, "admin"), await api.apiKey(OTHER, "admin")]) {
      for (const call of CALLS) {
        const res = await api.request(call.method, call.path(env.id), { token, headers: { "if-match": '"1"' }, body: call.body });
        await expectProblem(res, 404);
        expect(res.headers.get("etag")).toBeNull();
      }
      // If-None-Match must not turn into an existence oracle (304 vs 404).
      await expectProblem(await api.request("GET", url(env.id), { token, headers: { "if-none-match": '"1"' } }), 404);
      await expectProblem(await api.request("PATCH", `${url(env.id)}/controls/capabilities`, { token, body: null }), 404);
    }
    await ownerUnchanged();
    expect(await auditCount(api, OWNER)).toBe(ownerAudits);
    expect(await auditCount(api, OTHER)).toBe(0);
  });

  it("another tenant's environment with the same name has its own settings", async () => {
    const mine = await createEnvironment(api, OTHER, { name: env.name });
    const token = await api.token(OTHER, "editor");
    const res = await api.call(routeDefs.settings.putSettings, url(mine.id), { token, headers: { "if-match": '"1"' }, body: { settings: {} } });
    expect(res.status).toBe(200);
    expect((await json(res)).revision).toBe(2);
    await ownerUnchanged();
  });
});
