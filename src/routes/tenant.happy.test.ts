// GET /v1/tenant: what a signed-in caller sees, on both database backends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import * as routes from "../../test/harness/routes.ts";

describe.each(backends())("GET /v1/tenant ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  it("provisions the tenant on first sign-in and returns it with the caller as a member", async () => {
    const res = await api.call(routes.tenant.route, "/v1/tenant", { token: await api.token("acme", "viewer", { sub: "vera" }) });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json(res);
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      slug: "acme",
      name: "acme",
      createdAt: expect.any(String),
      role: "viewer",
      members: [{ subject: "vera", role: "viewer", lastSeenAt: expect.any(String) }],
    });
    expect(Date.parse(body.createdAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(Date.parse(body.members[0]!.lastSeenAt)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.id).toBe(await api.tenantId("acme"));
  });

  it("lists every member by subject with the role of their latest token", async () => {
    await api.request("GET", "/v1/tenant", { token: await api.token("acme", "admin", { sub: "alice" }) });
    // vera comes back with a higher role: the IdP is authoritative, the membership follows.
    const res = await api.call(routes.tenant.route, "/v1/tenant", { token: await api.token("acme", "editor", { sub: "vera" }) });
    const body = await json(res);
    expect(body.role).toBe("editor");
    expect(body.members.map((m: { subject: string; role: string }) => [m.subject, m.role])).toEqual([
      ["alice", "admin"],
      ["vera", "editor"],
    ]);
  });

  it("a role changed back and forth within a minute shows at once, in the list and the caller's role", async () => {
    const sub = "flip";
    for (const role of ["viewer", "admin", "viewer", "editor", "viewer"] as const) {
      const body = await json(await api.call(routes.tenant.route, "/v1/tenant", { token: await api.token("acme", role, { sub }) }));
      expect(body.role).toBe(role);
      expect(body.members.find((m: { subject: string }) => m.subject === sub)?.role, `after a ${role} token`).toBe(role);
    }
  });

  it("answers every role (viewer is the minimum)", async () => {
    for (const role of ["viewer", "editor", "admin"] as const) {
      const res = await api.call(routes.tenant.route, "/v1/tenant", { token: await api.token("acme", role, { sub: `r-${role}` }) });
      expect(res.status).toBe(200);
      expect((await json(res)).role).toBe(role);
    }
  });

  it("accepts an API key, which acts with its role and is not a member", async () => {
    const key = await api.apiKey("acme", "editor");
    const res = await api.call(routes.tenant.route, "/v1/tenant", { token: key });
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body).toMatchObject({ slug: "acme", role: "editor" });
    expect(body.members.some((m: { subject: string }) => m.subject.startsWith("apikey:"))).toBe(false);
  });

  it("keeps tenants apart: another tenant's caller sees only their own", async () => {
    const res = await api.call(routes.tenant.route, "/v1/tenant", { token: await api.token("globex", "admin", { sub: "gus" }) });
    const body = await json(res);
    expect(body).toMatchObject({ slug: "globex", role: "admin", members: [{ subject: "gus", role: "admin" }] });
    expect(body.id).not.toBe(await api.tenantId("acme"));
  });
});
