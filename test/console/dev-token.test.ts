// POST /dev/token (the console's development sign-in) and GET /console/config.json: the route
// mints tokens the API accepts only while the development key is in use, refuses bad input with
// problem+json naming the field, and does not exist at all when JWKS_URL is set.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../harness/api.ts";
import * as routes from "../harness/routes.ts";

describe("the console's development sign-in", () => {
  let api: TestApi;
  let oidc: TestApi;
  beforeAll(async () => {
    api = await createTestApi();
    oidc = await createTestApi(undefined, { jwt: { jwksUrl: "https://issuer.example.com/jwks.json" } });
    oidc.config.console = { oidcClientId: "gatehouse-console", oidcScope: "openid" };
  });
  afterAll(async () => {
    await api?.close();
    await oidc?.close();
  });

  it("mints a token for the tenant and role asked for, which /v1 accepts", async () => {
    expect(await json(await api.request("GET", "/console/config.json"))).toEqual({ signIn: { mode: "development" } });
    const res = await api.request("POST", "/dev/token", { body: { tenant: "acme", role: "editor", sub: "alice" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { token, expiresIn } = await json<{ token: string; expiresIn: number }>(res); // no route schema: the dev-only console route
    expect(expiresIn).toBe(3600);
    const tenant = await json(await api.call(routes.tenant.route, "/v1/tenant", { token }));
    expect(tenant).toMatchObject({ slug: "acme", role: "editor", members: [{ subject: "alice", role: "editor" }] });
  });

  it("refuses a bad tenant, an unknown role, extra fields and a body that is not JSON, naming the field", async () => {
    const bad = await expectProblem(await api.request("POST", "/dev/token", { body: { tenant: "Not A Slug", role: "owner" } }), 400);
    expect(bad.errors?.map((e) => e.path).sort()).toEqual(["role", "tenant"]);
    const extra = await expectProblem(await api.request("POST", "/dev/token", { body: { tenant: "acme", role: "admin", admin: true } }), 400);
    expect(extra.errors?.[0]?.path).toBe("(root)");
    await expectProblem(await api.request("POST", "/dev/token", { body: "{nope" }), 400);
  });

  it("is served to loopback clients only: a peer on the network gets 403 and no token", async () => {
    const from = (remoteAddress: string) =>
      api.app.request(
        "/dev/token",
        { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tenant: "acme", role: "admin" }) },
        { incoming: { socket: { remoteAddress } } },
      );
    for (const peer of ["10.0.0.7", "192.168.1.20", "2001:db8::1", "::ffff:10.0.0.7"]) {
      const p = await expectProblem(await from(peer), 403);
      expect(p.detail).toMatch(/only served to this machine/);
    }
    for (const local of ["127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"]) expect((await from(local)).status, local).toBe(200);
  });

  it("does not exist when JWKS_URL is set; the console is told to use OpenID Connect instead", async () => {
    await expectProblem(await oidc.request("POST", "/dev/token", { body: { tenant: "acme", role: "admin" } }), 404);
    expect(await json(await oidc.request("GET", "/console/config.json"))).toEqual({
      signIn: { mode: "oidc", issuer: oidc.config.jwt.issuer, clientId: "gatehouse-console", scope: "openid" },
    });
  });
});
