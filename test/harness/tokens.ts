// Token minting and forging for tests. Every route's security test runs badCredentials() through
// its endpoint and expects 401 for each: the auth middleware is shared, but a route that forgot
// to sit under /v1 or that bypasses it must fail loudly here.
import { createPublicKey } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { base64url, SignJWT, type JWK, type JWTPayload } from "jose";
import { parseEnv, type JwtConfig } from "../../src/app/config.ts";
import { generateCredential } from "../../src/app/credentials.ts";
import { devKeyFromSecret, generateDevKey, mintDevToken, type DevKey } from "../../src/app/dev-key.ts";
import type { Role } from "../../src/app/env.ts";

export const TEST_ISSUER = "gatehouse-test";
export const TEST_AUDIENCE = "gatehouse-test-api";
export const TEST_SKEW_SECONDS = 30;

/** The key every test app trusts (one per test process; never written to disk). */
export const testKey = (await generateDevKey()).key as Extract<DevKey, { alg: "EdDSA" }>;
/** A key nobody trusts: tokens signed with it are forgeries. */
export const otherKey = (await generateDevKey()).key as Extract<DevKey, { alg: "EdDSA" }>;

export function testJwtConfig(overrides: Partial<JwtConfig> = {}): JwtConfig {
  return { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, clockSkewSeconds: TEST_SKEW_SECONDS, devKey: testKey, ...overrides };
}

const epoch = (d: Date = new Date()) => Math.floor(d.getTime() / 1000);

export interface SignOptions {
  /** Defaults to testKey (EdDSA). */
  key?: DevKey;
  /** Raw protected header; `alg` is derived from key unless given. */
  header?: Record<string, unknown>;
  /** Registered claims; omit one by setting it to undefined. Times are epoch seconds. */
  iss?: string | undefined;
  aud?: string | undefined;
  iat?: number | undefined;
  exp?: number | undefined;
  nbf?: number | undefined;
}

/** A JWT with claims {sub, tenant, role} plus overrides; valid for an hour unless told otherwise. */
export async function signToken(claims: Record<string, unknown>, opts: SignOptions = {}): Promise<string> {
  const key = opts.key ?? testKey;
  const now = epoch();
  const payload: JWTPayload = {
    iss: "iss" in opts ? opts.iss : TEST_ISSUER,
    aud: "aud" in opts ? opts.aud : TEST_AUDIENCE,
    iat: "iat" in opts ? opts.iat : now,
    exp: "exp" in opts ? opts.exp : now + 3600,
    ...("nbf" in opts ? { nbf: opts.nbf } : {}),
    ...claims,
  };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  const header = key.alg === "EdDSA" ? { alg: "EdDSA", kid: key.kid, typ: "JWT" } : { alg: "HS256", typ: "JWT" };
  const jwt = new SignJWT(payload).setProtectedHeader({ ...header, ...opts.header } as { alg: string });
  return jwt.sign(key.alg === "EdDSA" ? key.privateKey : key.secret);
}

/** A valid token for `sub` in `tenant` with `role`. */
export function userToken(tenant: string, role: Role, sub = `${role}@${tenant}`, opts: SignOptions = {}): Promise<string> {
  return signToken({ sub, tenant, role }, opts);
}

/**
 * The issuer and audience a server trusts when JWT_ISSUER / JWT_AUDIENCE are left at config.ts's
 * defaults. workerd's wrangler.toml sets its own JWT_ISSUER, so a Worker under test is started
 * with JWT_ISSUER: DEV_ISSUER.
 */
export const { JWT_ISSUER: DEV_ISSUER, JWT_AUDIENCE: DEV_AUDIENCE } = parseEnv({});

/**
 * A token for a server in another process started with DEV_JWT_SECRET=`secret` (bench/api, the
 * Worker in workerd, the console's `npm start`): HS256, minted as `npm run token` mints it.
 */
export function devSecretToken(secret: string, tenant: string, role: string, { sub = `${role}@${tenant}`, ttlSeconds = 3600 } = {}): Promise<string> {
  return mintDevToken(devKeyFromSecret(secret), { sub, tenant, role }, { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, ttlSeconds });
}

function unsigned(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
  return `${enc(header)}.${enc(payload)}.`;
}

function hs256(secret: Uint8Array | string): DevKey {
  return { alg: "HS256", secret: typeof secret === "string" ? new TextEncoder().encode(secret) : secret };
}

export interface BadCredential {
  name: string;
  /** Request headers to send (no Authorization header at all for the "missing" case). */
  headers: Record<string, string>;
  /** The problem `detail` must match: proves the refusal has the intended cause. */
  detail: RegExp;
  /** Whether WWW-Authenticate carries error="invalid_token" (not when credentials are absent). */
  invalidToken: boolean;
}

/**
 * Credentials that must all be refused with 401 for `tenant` (which need not exist). Times are
 * an hour away from now so a slow suite cannot make an expired token valid or the reverse.
 */
export async function badCredentials(tenant: string, role: Role = "admin", key: Extract<DevKey, { alg: "EdDSA" }> = testKey): Promise<BadCredential[]> {
  const claims = { sub: `intruder@${tenant}`, tenant, role };
  const now = epoch();
  const pem = createPublicKey({ key: key.publicJwk as never, format: "jwk" }).export({ type: "spki", format: "pem" }) as string;
  const valid = await signToken(claims, { key });
  const [h, , s] = valid.split(".");
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const cases: [string, Record<string, string>, RegExp][] = [
    ["missing Authorization header", {}, /requires an Authorization/],
    ["empty Authorization header", { authorization: "" }, /requires an Authorization/],
    ["Basic scheme", { authorization: `Basic ${Buffer.from("admin:admin").toString("base64")}` }, /must be 'Bearer/],
    ["Bearer without a token", { authorization: "Bearer" }, /must be 'Bearer/],
    ["Bearer with two tokens", { authorization: `Bearer ${valid} ${valid}` }, /must be 'Bearer/],
    ["token without a scheme", { authorization: valid }, /must be 'Bearer/],
    ["not a JWT", bearer("not-a-jwt"), /not a valid JWT/],
    ["signed by another key", bearer(await signToken(claims, { key: otherKey })), /signature|trusted key/],
    ["signed by another key claiming the trusted kid", bearer(await signToken(claims, { key: otherKey, header: { kid: key.kid } })), /signature/],
    [
      "payload tampered (role escalated)",
      bearer(`${h}.${base64url.encode(JSON.stringify({ ...claims, role: "admin", sub: "root", iss: TEST_ISSUER, aud: TEST_AUDIENCE, exp: now + 3600 }))}.${s}`),
      /signature/,
    ],
    ["alg none", bearer(unsigned({ alg: "none", typ: "JWT" }, { ...claims, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 3600 })), /algorithm/],
    ["alg NONE with the valid signature kept", bearer(`${base64url.encode(JSON.stringify({ alg: "NONE" }))}.${valid.split(".")[1]}.${s}`), /algorithm/],
    ["HS256 keyed with the public key PEM (algorithm confusion)", bearer(await signToken(claims, { key: hs256(pem) })), /algorithm/],
    ["HS256 keyed with the raw public key bytes", bearer(await signToken(claims, { key: hs256(base64url.decode(key.publicJwk.x!)) })), /algorithm/],
    ["HS256 keyed with the public JWK JSON", bearer(await signToken(claims, { key: hs256(JSON.stringify(key.publicJwk)) })), /algorithm/],
    ["expired an hour ago", bearer(await signToken(claims, { key, iat: now - 7200, exp: now - 3600 })), /expired/],
    ["not valid for another hour (nbf)", bearer(await signToken(claims, { key, nbf: now + 3600, exp: now + 7200 })), /"nbf"/],
    ["no exp claim", bearer(await signToken(claims, { key, exp: undefined })), /"exp"/],
    ["wrong issuer", bearer(await signToken(claims, { key, iss: "https://evil.example" })), /"iss"/],
    ["no issuer", bearer(await signToken(claims, { key, iss: undefined })), /"iss"/],
    ["wrong audience", bearer(await signToken(claims, { key, aud: "some-other-api" })), /"aud"/],
    ["no sub claim", bearer(await signToken({ tenant, role }, { key })), /"sub"/],
    ["no tenant claim", bearer(await signToken({ sub: "x", role }, { key })), /"tenant"/],
    ["unknown role claim", bearer(await signToken({ ...claims, role: "owner" }, { key })), /"role"/],
    ["tenant claim not a slug", bearer(await signToken({ ...claims, tenant: "Acme Corp" }, { key })), /"tenant"/],
    ["agent credential (gha_)", bearer(generateCredential("gha").token), /Agent credentials/],
    ["unknown API key", bearer(generateCredential("ghk").token), /API key is not valid/],
    ["malformed API key", bearer("ghk_0123_short"), /API key is not valid/],
  ];
  return cases.map(([name, headers, detail]) => ({ name, headers, detail, invalidToken: Boolean(headers.authorization) }));
}

/** A minimal IdP key endpoint on 127.0.0.1: serves `state.keys` (change them to rotate), or fails with `state.status`; `hits` counts fetches. */
export async function jwksServer(keys: JWK[]) {
  const state = { keys, status: 200, hits: 0 };
  const server: Server = createServer((req, res) => {
    state.hits++;
    if (req.url !== "/.well-known/jwks.json" || state.status !== 200) {
      res.writeHead(req.url === "/.well-known/jwks.json" ? state.status : 404).end("no");
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: state.keys }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
  return { state, url, close: () => new Promise<void>((r) => server.close(() => r())) };
}
