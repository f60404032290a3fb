// GET /v1/tenant refuses every bad credential (the model for every route's security test:
// copy it, change the request and the minimum role).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { badCredentials, signToken, TEST_SKEW_SECONDS } from "../../test/harness/tokens.ts";
import { ROLES } from "../app/env.ts";
import { hasRole } from "../app/auth.ts";

const METHOD = "GET";
const PATH = "/v1/tenant";
const MIN_ROLE = "viewer";

// Built at collection time so each case is its own test; times are an hour off, so stable.
const bad = await badCredentials("acme");

describe.each(backends())(`${METHOD} ${PATH} security ($name)`, (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
    // The tenant exists, so a refusal cannot be explained by an unknown tenant.
    await api.request(METHOD, PATH, { token: await api.token("acme", "admin") });
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
    const res = await api.request(METHOD, PATH, { headers });
    const body = await expectProblem(res, 401);
    expect(body.detail).toMatch(detail);
    const challenge = res.headers.get("www-authenticate") ?? "";
    expect(challenge).toMatch(/^Bearer realm="gatehouse"/);
    expect(challenge.includes('error="invalid_token"')).toBe(invalidToken);
  });

  it("401 for a revoked API key (and 200 for the same tenant's live one)", async () => {
    await expectProblem(await api.request(METHOD, PATH, { token: await api.apiKey("acme", "admin", { revoked: true }) }), 401);
    expect((await api.request(METHOD, PATH, { token: await api.apiKey("acme", "admin") })).status).toBe(200);
  });

  it("401 for an API key whose secret was altered", async () => {
    const key = await api.apiKey("acme", "admin");
    const altered = key.slice(0, -1) + (key.endsWith("A") ? "B" : "A");
    await expectProblem(await api.request(METHOD, PATH, { token: altered }), 401);
  });

  it("tolerates clock skew up to the configured seconds, not beyond", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: "skewed", tenant: "acme", role: "admin" };
    const at = async (opts: Parameters<typeof signToken>[1]) => (await api.request(METHOD, PATH, { token: await signToken(claims, opts) })).status;
    expect(TEST_SKEW_SECONDS).toBe(30);
    expect(await at({ iat: now - 600, exp: now - 10 })).toBe(200);
    expect(await at({ iat: now - 600, exp: now - 45 })).toBe(401);
    expect(await at({ nbf: now + 10 })).toBe(200);
    expect(await at({ nbf: now + 45 })).toBe(401);
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} or above → allowed, below → 403`, async (role) => {
    const res = await api.request(METHOD, PATH, { token: await api.token("acme", role) });
    if (hasRole({ role }, MIN_ROLE)) expect(res.status).toBe(200);
    else await expectProblem(res, 403);
  });

  it("a token for another tenant never sees this one", async () => {
    const res = await api.request(METHOD, PATH, { token: await api.token("globex", "admin") });
    const body = (await res.json()) as { slug: string; members: { subject: string }[] };
    expect(body.slug).toBe("globex");
    expect(body.members.map((m) => m.subject)).toEqual(["admin@globex"]);
  });
});
