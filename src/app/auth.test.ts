// Authentication modes beyond the default dev key: an IdP's JWKS served over real HTTP, an HS256
// dev secret; role checks; and the throttled last-seen / last-used bookkeeping.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { badCredentials, jwksServer, signToken, TEST_AUDIENCE, TEST_ISSUER, testKey } from "../../test/harness/tokens.ts";
import { apiKeys, memberships } from "../db/schema.ts";
import { requireRole } from "./auth.ts";
import type { V1Env } from "./env.ts";
import { devKeyFromSecret, generateDevKey, type DevKey } from "./dev-key.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const claims = { sub: "idp-user", tenant: "acme", role: "viewer" };

async function otherAlgKey(alg: "RS256" | "ES256") {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const jwk = { ...(await exportJWK(publicKey)), kid: `${alg}-key`, alg, use: "sig" };
  const sign = (c: Record<string, unknown> = claims) =>
    new SignJWT(c)
      .setProtectedHeader({ alg, kid: jwk.kid })
      .setIssuer(TEST_ISSUER)
      .setAudience(TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime("1h")
      .sign(privateKey);
  return { jwk, sign };
}

describe("JWKS mode (an IdP's keys over HTTP)", async () => {
  const idp = (await generateDevKey()).key as Extract<DevKey, { alg: "EdDSA" }>;
  const rsa = await otherAlgKey("RS256");
  const ec = await otherAlgKey("ES256");
  const server = await jwksServer([idp.publicJwk, rsa.jwk, ec.jwk]);
  const bad = await badCredentials("acme", "admin", idp);
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(undefined, { jwt: { jwksUrl: server.url, devKey: undefined } });
  });
  afterAll(async () => {
    await api?.close();
    await server.close();
  });

  it("accepts tokens signed by any of the IdP's keys (EdDSA, RS256, ES256)", async () => {
    for (const token of [await signToken(claims, { key: idp }), await rsa.sign(), await ec.sign()]) {
      const res = await api.call(routeDefs.tenant.route, "/v1/tenant", { token });
      expect(res.status, await res.clone().text()).toBe(200);
      expect((await json(res)).role).toBe("viewer");
    }
    expect(server.state.hits).toBeGreaterThan(0);
  });

  it("refuses a token from the dev key: under JWKS_URL only the IdP's keys count", async () => {
    const body = await expectProblem(await api.request("GET", "/v1/tenant", { token: await signToken(claims, { key: testKey }) }), 401);
    expect(body.detail).toMatch(/trusted key/);
  });

  it.each(bad)("401 for $name", async ({ headers, detail }) => {
    expect((await expectProblem(await api.request("GET", "/v1/tenant", { headers }), 401)).detail).toMatch(detail);
  });

  it("503, not 401, when the IdP's key endpoint fails", async () => {
    server.state.status = 500;
    try {
      // A fresh app: the first one has the keys cached.
      const down = await createTestApi(undefined, { jwt: { jwksUrl: server.url, devKey: undefined } });
      try {
        await expectProblem(await down.request("GET", "/v1/tenant", { token: await signToken(claims, { key: idp }) }), 503);
      } finally {
        await down.close();
      }
    } finally {
      server.state.status = 200;
    }
  });

  it("503 when the IdP is unreachable", async () => {
    const gone = await jwksServer([]);
    await gone.close();
    const down = await createTestApi(undefined, { jwt: { jwksUrl: gone.url, devKey: undefined } });
    try {
      await expectProblem(await down.request("GET", "/v1/tenant", { token: await signToken(claims, { key: idp }) }), 503);
    } finally {
      await down.close();
    }
  });
});

describe("HS256 dev secret (DEV_JWT_SECRET)", () => {
  const key = devKeyFromSecret("s".repeat(40));
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(undefined, { jwt: { devKey: key } });
  });
  afterAll(() => api?.close());

  it("accepts HS256 tokens made with the secret, nothing else", async () => {
    expect((await api.request("GET", "/v1/tenant", { token: await signToken(claims, { key }) })).status).toBe(200);
    await expectProblem(await api.request("GET", "/v1/tenant", { token: await signToken(claims, { key: devKeyFromSecret("t".repeat(40)) }) }), 401);
    const eddsa = await expectProblem(await api.request("GET", "/v1/tenant", { token: await signToken(claims) }), 401);
    expect(eddsa.detail).toMatch(/algorithm/);
  });
});

describe("roles", () => {
  let api: TestApi;
  beforeAll(async () => {
    const adminOnly = {
      register(app: OpenAPIHono<V1Env>) {
        app.get("/v1/test/admin-only", requireRole("admin"), (c) => c.json({ ok: true }));
      },
    };
    api = await createTestApi(undefined, { routes: [adminOnly] });
  });
  afterAll(() => api?.close());

  it.each([
    ["viewer", 403],
    ["editor", 403],
    ["admin", 200],
  ] as const)("%s → %i", async (role, status) => {
    const res = await api.request("GET", "/v1/test/admin-only", { token: await api.token("acme", role) });
    if (status === 200) expect(res.status).toBe(200);
    else expect((await expectProblem(res, 403)).detail).toBe(`This operation requires the admin role; the caller is ${role}.`);
  });

  it("an API key's role is checked the same way", async () => {
    await expectProblem(await api.request("GET", "/v1/test/admin-only", { token: await api.apiKey("acme", "editor") }), 403);
    expect((await api.request("GET", "/v1/test/admin-only", { token: await api.apiKey("acme", "admin") })).status).toBe(200);
  });
});

describe("last seen / last used are written at most once a minute", () => {
  let clock = new Date();
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(undefined, { now: () => clock });
  });
  afterEach(() => {
    clock = new Date();
  });
  afterAll(() => api?.close());

  const start = new Date(Math.floor(Date.now() / 1000) * 1000);
  const at = async (offsetSeconds: number, token: string) => {
    clock = new Date(start.getTime() + offsetSeconds * 1000);
    expect((await api.request("GET", "/v1/tenant", { token })).status).toBe(200);
  };

  it("for users (memberships.last_seen_at)", async () => {
    const token = await api.token("acme", "viewer", { sub: "clocked" });
    const seen = async () =>
      (
        await api.db.withTenant(await api.tenantId("acme"), (tx) => tx.select().from(memberships).where(eq(memberships.subject, "clocked")))
      )[0]?.lastSeenAt.getTime();
    await at(0, token);
    expect(await seen()).toBe(start.getTime());
    await at(30, token);
    expect(await seen()).toBe(start.getTime());
    await at(90, token);
    expect(await seen()).toBe(start.getTime() + 90_000);
  });

  it("a role change is written at once, and then again only once a minute", async () => {
    const row = async () =>
      (await api.db.withTenant(await api.tenantId("acme"), (tx) => tx.select().from(memberships).where(eq(memberships.subject, "promoted"))))[0];
    await at(0, await api.token("acme", "viewer", { sub: "promoted" }));
    const admin = await api.token("acme", "admin", { sub: "promoted" });
    await at(10, admin);
    expect(await row()).toMatchObject({ role: "admin", lastSeenAt: new Date(start.getTime() + 10_000) });
    await at(20, admin); // same role, within the minute: no write
    expect((await row())?.lastSeenAt.getTime()).toBe(start.getTime() + 10_000);
    await at(30, await api.token("acme", "viewer", { sub: "promoted" })); // back: written at once
    expect(await row()).toMatchObject({ role: "viewer", lastSeenAt: new Date(start.getTime() + 30_000) });
  });

  it("for API keys (api_keys.last_used_at)", async () => {
    const key = await api.apiKey("acme", "viewer", { name: "clocked" });
    const used = async () =>
      (await api.db.withTenant(await api.tenantId("acme"), (tx) => tx.select().from(apiKeys).where(eq(apiKeys.name, "clocked"))))[0]?.lastUsedAt?.getTime();
    expect(await used()).toBeUndefined();
    await at(0, key);
    expect(await used()).toBe(start.getTime());
    await at(30, key);
    expect(await used()).toBe(start.getTime());
    await at(90, key);
    expect(await used()).toBe(start.getTime() + 90_000);
  });
});
