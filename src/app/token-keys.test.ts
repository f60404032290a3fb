// Which key verifies a JWT, and for how long a JWT may claim to be valid (issue 13, item 6).
// The IdP's JWKS is served over real HTTP (tokens.ts jwksServer); the verifier is the app's own.
// jose keeps the JWKS cooldown on Date.now(), so the rotation test moves that clock (Date only:
// timers, sockets and fetch timeouts stay real).
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { createTestApi, expectProblem, json } from "../../test/harness/api.ts";
import { jwksServer, signToken, testJwtConfig, testKey } from "../../test/harness/tokens.ts";
import { createTokenVerifier } from "./auth.ts";
import { DEFAULT_JWT_MAX_LIFETIME_SECONDS } from "./config.ts";
import { generateDevKey, type DevKey } from "./dev-key.ts";
import * as routes from "../../test/harness/routes.ts";

const claims = { sub: "idp-user", tenant: "acme", role: "viewer" };
const epoch = () => Math.floor(Date.now() / 1000);
const eddsa = async () => (await generateDevKey()).key as Extract<DevKey, { alg: "EdDSA" }>;
const refusal = async (p: Promise<unknown>) => {
  const err = (await p.then(
    () => undefined,
    (e: unknown) => e,
  )) as { status?: number; message?: string } | undefined;
  expect(err, "expected the token to be refused").toBeDefined();
  expect(err!.status).toBe(401);
  return err!.message ?? "";
};

describe("key selection by kid (JWKS)", async () => {
  const a = await eddsa();
  const b = await eddsa();
  const server = await jwksServer([a.publicJwk, b.publicJwk]);
  const verifier = () => createTokenVerifier(testJwtConfig({ jwksUrl: server.url, devKey: undefined }));
  afterEach(() => {
    vi.useRealTimers();
    server.state.keys = [a.publicJwk, b.publicJwk];
  });
  afterAll(() => server.close());

  it("verifies with the key its kid names, each of the set's keys", async () => {
    const verify = verifier();
    expect((await verify(await signToken(claims, { key: a }), new Date())).sub).toBe("idp-user");
    expect((await verify(await signToken(claims, { key: b }), new Date())).sub).toBe("idp-user");
  });

  it("a kid naming another key of the set than the one that signed is a bad signature, not a search through the set", async () => {
    const detail = await refusal(verifier()(await signToken(claims, { key: a, header: { kid: b.kid } }), new Date()));
    expect(detail).toMatch(/signature/);
  });

  it("an unknown kid refetches the JWKS at most once per cooldown, then 401: forged kids cannot make us hammer the IdP", async () => {
    const verify = verifier();
    await verify(await signToken(claims, { key: a }), new Date()); // the first fetch
    const before = server.state.hits;
    for (let i = 0; i < 20; i++) {
      const detail = await refusal(verify(await signToken({ ...claims, sub: `forger-${i}` }, { key: a, header: { kid: `forged-${i}` } }), new Date()));
      expect(detail).toMatch(/trusted key/);
    }
    expect(server.state.hits - before).toBe(0); // the set was fetched moments ago: still cooling down
  });

  it("rotation: a new key the IdP publishes is picked up by one refetch once the cooldown is over; a withdrawn key stops counting", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const verify = verifier();
    await verify(await signToken(claims, { key: a }), new Date());
    const c = await eddsa();
    server.state.keys = [b.publicJwk, c.publicJwk]; // a withdrawn, c published
    vi.setSystemTime(Date.now() + 31_000); // past jose's 30 s cooldown, within its 10 min cache
    const before = server.state.hits;
    expect((await verify(await signToken(claims, { key: c }), new Date())).sub).toBe("idp-user");
    expect(server.state.hits - before).toBe(1);
    // The refetched set no longer lists a: a token signed by it (not remembered yet) is refused.
    await refusal(verify(await signToken({ ...claims, sub: "late" }, { key: a }), new Date()));
  });

  it("an unknown kid is 401 through the app as well", async () => {
    const api = await createTestApi(undefined, { jwt: { jwksUrl: server.url, devKey: undefined } });
    try {
      const body = await expectProblem(await api.request("GET", "/v1/tenant", { token: await signToken(claims, { key: a, header: { kid: "nobody" } }) }), 401);
      expect(body.detail).toMatch(/trusted key/);
    } finally {
      await api.close();
    }
  });
});

describe("key selection by kid (the dev key)", () => {
  it("a token signed by the dev key but naming another kid is refused", async () => {
    const detail = await refusal(createTokenVerifier(testJwtConfig())(await signToken(claims, { header: { kid: "some-other-key" } }), new Date()));
    expect(detail).toMatch(/trusted key/);
  });

  it("the dev key's own kid, or none, verifies", async () => {
    const verify = createTokenVerifier(testJwtConfig());
    expect((await verify(await signToken(claims, { header: { kid: testKey.kid } }), new Date())).sub).toBe("idp-user");
    expect((await verify(await signToken({ ...claims, sub: "no-kid" }, { header: { kid: undefined } }), new Date())).sub).toBe("no-kid");
  });
});

describe("maximum token lifetime", () => {
  const day = DEFAULT_JWT_MAX_LIFETIME_SECONDS;
  const verify = createTokenVerifier(testJwtConfig());

  it("defaults to 24 hours", () => {
    expect(day).toBe(86_400);
  });

  it.each([
    ["exp = 1e300", () => ({ exp: 1e300 })],
    ["exp − iat one second over 24 h", () => ({ iat: epoch() - 10, exp: epoch() - 10 + day + 1 })],
    ["no iat, exp 25 h away", () => ({ iat: undefined, exp: epoch() + 25 * 3600 })],
    ["iat a month in the future, exp an hour after it", () => ({ iat: epoch() + 30 * day, exp: epoch() + 30 * day + 3600 })],
  ])("refuses %s", async (_name, times) => {
    const detail = await refusal(verify(await signToken(claims, times()), new Date()));
    expect(detail).toMatch(/lifetime/);
  });

  it.each([
    ["exactly 24 h", () => ({ iat: epoch(), exp: epoch() + day })],
    ["no iat, exp an hour away", () => ({ iat: undefined, exp: epoch() + 3600 })],
    ["issued 23 h ago for 24 h", () => ({ iat: epoch() - 23 * 3600, exp: epoch() + 3600 })],
    ["24 h from an iat a few seconds ahead of our clock (within the skew)", () => ({ iat: epoch() + 10, exp: epoch() + 10 + day })],
  ])("accepts %s", async (_name, times) => {
    expect((await verify(await signToken(claims, times()), new Date())).sub).toBe("idp-user");
  });

  it("is configurable (JWT_MAX_LIFETIME_SECONDS)", async () => {
    const short = createTokenVerifier(testJwtConfig({ maxLifetimeSeconds: 3600 }));
    const twoHours = await signToken(claims, { iat: epoch(), exp: epoch() + 7200 });
    expect(await refusal(short(twoHours, new Date()))).toMatch(/lifetime of 3600 s/);
    expect((await verify(twoHours, new Date())).sub).toBe("idp-user");
  });

  it("a long-lived token is a 401 problem through the app", async () => {
    const api = await createTestApi();
    try {
      const res = await api.request("GET", "/v1/tenant", { token: await signToken(claims, { exp: 1e300 }) });
      const body = await expectProblem(res, 401);
      expect(body.detail).toMatch(/lifetime/);
      expect(res.headers.get("www-authenticate")).toContain('error="invalid_token"');
      expect((await json(await api.call(routes.tenant.route, "/v1/tenant", { token: await signToken(claims) }))).slug).toBe("acme");
    } finally {
      await api.close();
    }
  });
});
