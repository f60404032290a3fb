// /v1/environments refuses every bad credential, every role below the minimum, and never lets
// one tenant see or touch another's environment (404, and the owner's data is unchanged).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditCount, createEnvironment, revisionNumbers, type EnvJson } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES, type Role } from "../app/env.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

const OWNER = "acme-envsec";
const OTHER = "other-envsec";
const bad = await badCredentials(OWNER);

interface Call {
  method: string;
  path: (id: string) => string;
  body?: () => unknown;
  min: Role;
  ok: number;
}
let n = 0;
const CALLS: Call[] = [
  { method: "POST", path: () => "/v1/environments", body: () => ({ name: `sec-${++n}` }), min: "admin", ok: 201 },
  { method: "GET", path: () => "/v1/environments", min: "viewer", ok: 200 },
  { method: "GET", path: (id) => `/v1/environments/${id}`, min: "viewer", ok: 200 },
  { method: "PATCH", path: (id) => `/v1/environments/${id}`, body: () => ({ description: `changed ${++n}` }), min: "admin", ok: 200 },
  { method: "DELETE", path: (id) => `/v1/environments/${id}`, min: "admin", ok: 204 },
];

describe.each(backends())("/v1/environments security ($name)", (backend) => {
  let api: TestApi;
  let env: EnvJson;
  beforeAll(async () => {
    api = await createTestApi(backend);
    env = await createEnvironment(api, OWNER, { labels: { tier: "prod" } });
  });
  afterAll(() => api?.close());

  const ownerView = async (id: string) =>
    json(await api.call(routes.environments.getEnv, `/v1/environments/${id}`, { token: await api.token(OWNER, "viewer") }));

  it.each(bad)("401 for $name on every route", async ({ headers, detail }) => {
    const audits = await auditCount(api, OWNER);
    for (const call of CALLS) {
      const res = await api.request(call.method, call.path(env.id), { headers, body: call.body?.() });
      expect((await expectProblem(res, 401)).detail).toMatch(detail);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer realm="gatehouse"/);
    }
    expect(await ownerView(env.id)).toEqual(env);
    expect(await auditCount(api, OWNER)).toBe(audits);
  });

  it("401 for a revoked API key of the owner, even an admin one", async () => {
    const key = await api.apiKey(OWNER, "admin", { revoked: true });
    for (const call of CALLS) await expectProblem(await api.request(call.method, call.path(env.id), { token: key, body: call.body?.() }), 401);
    expect(await ownerView(env.id)).toEqual(env);
  });

  it.each(CALLS.flatMap((call) => ROLES.map((role) => ({ ...call, role, name: `${call.method} ${call.path(":id")} as ${role}` }))))(
    "$name: $min or above → allowed, below → 403 and nothing written",
    async (call) => {
      const t = `acme-envsec-${call.role}-${call.method.toLowerCase()}-${call.path(":id").length}`;
      const target = await createEnvironment(api, t);
      const audits = await auditCount(api, t);
      const res = await api.request(call.method, call.path(target.id), { token: await api.token(t, call.role), body: call.body?.() });
      if (hasRole({ role: call.role } as never, call.min)) {
        expect(res.status).toBe(call.ok);
      } else {
        await expectProblem(res, 403);
        expect(await auditCount(api, t)).toBe(audits);
        expect(await json(await api.call(routes.environments.getEnv, `/v1/environments/${target.id}`, { token: await api.token(t, "viewer") }))).toEqual(
          target,
        );
      }
    },
  );

  it("another tenant's admin gets 404 for every verb on the id, and the owner's environment is untouched", async () => {
    const ownerAudits = await auditCount(api, OWNER);
    for (const token of [await api.token(OTHER, "admin"), await api.apiKey(OTHER, "admin")]) {
      await expectProblem(await api.request("GET", `/v1/environments/${env.id}`, { token }), 404);
      await expectProblem(await api.request("PATCH", `/v1/environments/${env.id}`, { token, body: { name: "stolen", labels: {} } }), 404);
      await expectProblem(await api.request("DELETE", `/v1/environments/${env.id}`, { token }), 404);
    }
    expect(await ownerView(env.id)).toEqual(env);
    expect(await revisionNumbers(api, env.id)).toEqual([1]);
    expect(await auditCount(api, OWNER)).toBe(ownerAudits);
    // The refusals wrote nothing on the other side either.
    expect(await auditCount(api, OTHER)).toBe(0);
  });

  it("another tenant's list, label filter and a cursor built from the owner's names show none of the owner's", async () => {
    const token = await api.token(OTHER, "admin");
    const mine = await createEnvironment(api, OTHER, { name: env.name, labels: { tier: "prod" } });
    const ids = async (q: string) =>
      (await json<ResponseBodyOf<typeof routes.environments.listEnvs>>(await api.request("GET", `/v1/environments${q}`, { token }))).items.map((e) => e.id);
    expect(await ids("")).toEqual([mine.id]);
    expect(await ids("?label=tier=prod")).toEqual([mine.id]);
    expect(await ids(`?cursor=${encodeCursor({ name: "", id: env.id })}`)).toEqual([mine.id]);
    // The same name in two tenants is two environments.
    expect(mine.id).not.toBe(env.id);
    expect(await ownerView(env.id)).toEqual(env);
  });
});
