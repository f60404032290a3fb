// Authentication and roles for /v1. A caller is a user (a JWT from the IdP, or from the dev key)
// or an API key (ghk_...). Agent credentials (gha_...) belong to the agent API, never here.
import { and, eq, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { MiddlewareHandler } from "hono";
import { createLocalJWKSet, createRemoteJWKSet, errors as joseErrors, jwtVerify, type CryptoKey, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import { apiKeys, tenants } from "../db/schema.ts";
import { createTenant, findTenantId, recordSignIn } from "../services/tenants.ts";
import { DEFAULT_JWT_MAX_LIFETIME_SECONDS, type JwtConfig, type TenantProvisioning } from "./config.ts";
import { parseCredential, secretMatches } from "./credentials.ts";
import { ROLES, TenantSlug, type Principal, type V1Env, type Role } from "./env.ts";
import { ProblemError } from "./problem.ts";

const Claims = z.object({ sub: z.string().min(1).max(255), tenant: TenantSlug, role: z.enum(ROLES) });

// Asymmetric only for an IdP's JWKS; the allow-list is what stops `alg: none` and HS256-with-
// the-public-key (algorithm confusion): jose refuses any alg not listed, before touching the key.
const JWKS_ALGORITHMS = ["EdDSA", "Ed25519", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
// Last-seen / last-used timestamps are written at most this often per caller, not per request.
const TOUCH_INTERVAL = "60 seconds";
const VERIFIED_MS = 5 * 60_000;
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_CACHE_MS = 10 * 60_000;

export type TokenVerifier = (token: string, now: Date) => Promise<JWTPayload>;

export function createTokenVerifier(jwt: JwtConfig): TokenVerifier {
  let key: JWTVerifyGetKey | CryptoKey | Uint8Array;
  let algorithms: string[];
  if (jwt.jwksUrl) {
    // jose picks the key by the token's kid (only keys of a matching type and alg when it has
    // none), and on an unknown kid refetches the set once — then not again for its 30 s
    // cooldown, so a stream of forged kids cannot make us hammer the IdP. Keys are cached 10 min.
    key = createRemoteJWKSet(new URL(jwt.jwksUrl), { cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_CACHE_MS });
    algorithms = JWKS_ALGORITHMS;
  } else if (jwt.devKey?.alg === "EdDSA") {
    // A one-key set rather than the bare key, so a kid naming any other key is refused as it is
    // under JWKS_URL. Without its alg the JWK serves both names of Ed25519 (EdDSA, Ed25519).
    const { alg: _alg, ...publicJwk } = jwt.devKey.publicJwk;
    key = createLocalJWKSet({ keys: [publicJwk] });
    algorithms = ["EdDSA", "Ed25519"];
  } else if (jwt.devKey?.alg === "HS256") {
    key = jwt.devKey.secret;
    algorithms = ["HS256"];
  } else {
    throw new Error("no JWT verification key: set JWKS_URL or provide a dev key");
  }
  const options = (now: Date) => ({
    algorithms,
    issuer: jwt.issuer,
    audience: jwt.audience,
    clockTolerance: jwt.clockSkewSeconds,
    currentDate: now,
    requiredClaims: ["exp", "sub"],
  });
  // Tokens that verified recently are not verified again (the signature check dominates a poll):
  // each entry still answers to exp/nbf with the skew, and lives at most VERIFIED_MS, so a key
  // withdrawn from the JWKS stops being honoured within that time.
  const verified = new Map<string, { payload: JWTPayload; until: number }>();
  const skewMs = jwt.clockSkewSeconds * 1000;
  const maxLifetime = jwt.maxLifetimeSeconds ?? DEFAULT_JWT_MAX_LIFETIME_SECONDS;
  return async (token, now) => {
    const t = now.getTime();
    const hit = verified.get(token);
    if (hit) {
      const { exp, nbf } = hit.payload;
      if (t < hit.until && exp !== undefined && t < exp * 1000 + skewMs && (nbf === undefined || t >= nbf * 1000 - skewMs)) return hit.payload;
      verified.delete(token);
    }
    const payload = await verifyFresh(token, now);
    checkLifetime(payload, t / 1000);
    if (verified.size >= 10_000) verified.clear();
    verified.set(token, { payload, until: t + VERIFIED_MS });
    return payload;
  };

  // A token is a bearer key for as long as it claims to be valid: bound that, so a leaked token
  // (or an IdP misconfigured to exp = 1e300) is not a key for ever. exp − iat is the lifetime the
  // IdP gave it; exp − now also bounds a token without iat, or with an iat in the future.
  function checkLifetime(payload: JWTPayload, nowSeconds: number) {
    const { exp, iat } = payload;
    if (exp === undefined) return; // jwtVerify requires it; for the type only
    if ((iat !== undefined && exp - iat > maxLifetime) || exp - nowSeconds > maxLifetime + jwt.clockSkewSeconds) {
      throw unauthorized(`The token's lifetime (exp − iat, or exp − now without iat) exceeds the maximum lifetime of ${maxLifetime} s.`);
    }
  }

  async function verifyFresh(token: string, now: Date): Promise<JWTPayload> {
    try {
      // Two calls only because jwtVerify's overloads split on the key's type.
      return typeof key === "function" ? (await jwtVerify(token, key, options(now))).payload : (await jwtVerify(token, key, options(now))).payload;
    } catch (e) {
      // The IdP's key set being unreachable or broken is not the caller's fault: 503, not 401.
      if (jwt.jwksUrl && keySetUnavailable(e)) {
        throw new ProblemError(503, "The identity provider's signing keys could not be fetched; try again later.");
      }
      if (e instanceof joseErrors.JOSEError) throw unauthorized(describeJwtFailure(e));
      throw e;
    }
  }
}

function keySetUnavailable(e: unknown): boolean {
  return (
    e instanceof joseErrors.JWKSTimeout ||
    e instanceof joseErrors.JWKSInvalid ||
    e instanceof TypeError || // fetch() failed: connection refused, DNS
    (e instanceof joseErrors.JOSEError && e.code === "ERR_JOSE_GENERIC") // non-200 from the JWKS URL
  );
}

export function unauthorized(detail: string, error = true): ProblemError {
  // RFC 6750 §3: no error code when credentials are simply absent.
  const challenge = error ? `Bearer realm="gatehouse", error="invalid_token"` : `Bearer realm="gatehouse"`;
  return new ProblemError(401, detail, { headers: { "www-authenticate": challenge } });
}

function describeJwtFailure(e: unknown): string {
  if (e instanceof joseErrors.JWTExpired) return "The token has expired.";
  if (e instanceof joseErrors.JWTClaimValidationFailed) return `The token's "${e.claim}" claim is not acceptable.`;
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return "The token's signing algorithm is not accepted.";
  if (e instanceof joseErrors.JWKSNoMatchingKey) return "The token was not signed by a trusted key.";
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return "The token's signature is not valid.";
  return "The token is not a valid JWT.";
}

/** The tenant for a slug, created (and audited) if new, as a first sign-in in auto mode does. */
export async function ensureTenant(db: Database, slug: string, actor = "system"): Promise<string> {
  return (await createTenant(db, slug, { actor, provisioning: "auto" })).id;
}

/** A verified token naming a tenant this deployment does not have (TENANT_PROVISIONING=closed). */
function unknownTenant(slug: string): ProblemError {
  // 403, not 401: the credential is authentic (its signature, issuer and times verified), so a
  // new token would be refused the same way; the fix is an operator creating the tenant.
  return new ProblemError(403, `The tenant "${slug}" does not exist here; an operator creates tenants with npm run tenant:create.`);
}

/**
 * Per-app memory that spares the hot path (agents and dashboards polling) two transactions per
 * request: tenant ids never change for a slug, and a membership this process wrote less than
 * TOUCH_MS ago, with the role the request carries, needs no new write. Members are keyed by
 * tenant and subject with the role last written, not by role: a role that changes (in either
 * direction, any number of times) is written by the first request that carries it. Bounded, and
 * per app so tests never share it.
 */
export interface AuthCache {
  tenants: Map<string, string>;
  touched: Map<string, number>;
  members: Map<string, { role: Role; at: number }>;
}
const CACHE_LIMIT = 10_000;
const TOUCH_MS = 60_000;
export const newAuthCache = (): AuthCache => ({ tenants: new Map(), touched: new Map(), members: new Map() });

export function remember<K, V>(map: Map<K, V>, key: K, value: V) {
  if (map.size >= CACHE_LIMIT) map.clear();
  map.set(key, value);
}

/** True unless this process wrote the touch for `key` less than TOUCH_MS ago (a clock set back counts as due). */
export function dueForTouch(cache: AuthCache, key: string, now: Date): boolean {
  return isDue(cache.touched.get(key), now);
}

const isDue = (last: number | undefined, now: Date) => last === undefined || now.getTime() - last >= TOUCH_MS || now.getTime() < last;

// The verifier hands back the same payload object for a token it verified recently: its claims
// are parsed once, not on every poll.
const parsedClaims = new WeakMap<JWTPayload, z.infer<typeof Claims>>();

async function userPrincipal(db: Database, payload: JWTPayload, now: Date, cache: AuthCache, provisioning: TenantProvisioning): Promise<Principal> {
  let data = parsedClaims.get(payload);
  if (!data) {
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw unauthorized(`The token's "${String(claims.error.issues[0]?.path[0] ?? "claims")}" claim is not acceptable.`);
    data = claims.data;
    parsedClaims.set(payload, data);
  }
  const { sub, tenant, role } = data;
  let tenantId = cache.tenants.get(tenant);
  if (!tenantId) {
    // Only found ids are remembered: a tenant the operator creates later signs in at once.
    tenantId = provisioning === "closed" ? await findTenantId(db, tenant) : await ensureTenant(db, tenant, sub);
    if (!tenantId) throw unknownTenant(tenant);
    remember(cache.tenants, tenant, tenantId);
  }
  const member = `${tenantId}|${sub}`;
  const known = cache.members.get(member);
  if (!known || known.role !== role || isDue(known.at, now)) {
    const id = tenantId;
    await db.withTenant(id, (tx) => recordSignIn(tx, { tenantId: id, subject: sub, role, now, touchMs: TOUCH_MS }));
    remember(cache.members, member, { role, at: now.getTime() });
  }
  return { kind: "user", subject: sub, tenantId, tenantSlug: tenant, role };
}

/** A "last used" column that is null or older than TOUCH_INTERVAL before `now`: worth writing. */
export function touchIsStale(column: AnyPgColumn, now: Date): SQL | undefined {
  return or(isNull(column), lt(column, sql`${now.toISOString()}::timestamptz - interval '${sql.raw(TOUCH_INTERVAL)}'`));
}

// The key itself is looked up on every request, so revoking or rotating it takes effect at once;
// only the "last used" write is skipped when this process made it less than a minute ago.
async function apiKeyPrincipal(db: Database, prefix: string, secret: string, now: Date, cache: AuthCache): Promise<Principal> {
  const row = await db.asSystem(
    async (tx) =>
      (
        await tx
          .select({
            id: apiKeys.id,
            tenantId: apiKeys.tenantId,
            role: apiKeys.role,
            secretHash: apiKeys.secretHash,
            revokedAt: apiKeys.revokedAt,
            slug: tenants.slug,
          })
          .from(apiKeys)
          .innerJoin(tenants, eq(tenants.id, apiKeys.tenantId))
          .where(eq(apiKeys.prefix, prefix))
      )[0],
  );
  if (!row || !secretMatches(secret, row.secretHash)) throw unauthorized("The API key is not valid.");
  if (row.revokedAt) throw unauthorized("The API key has been revoked.");
  if (dueForTouch(cache, `apikey|${row.id}`, now)) {
    await db.withTenant(row.tenantId, (tx) =>
      tx
        .update(apiKeys)
        .set({ lastUsedAt: now })
        .where(and(eq(apiKeys.id, row.id), touchIsStale(apiKeys.lastUsedAt, now))),
    );
    remember(cache.touched, `apikey|${row.id}`, now.getTime());
  }
  return { kind: "apiKey", subject: `apikey:${prefix}`, tenantId: row.tenantId, tenantSlug: row.slug, role: row.role as Role };
}

/** The token of an `Authorization: Bearer <token>` header, or a 401 (RFC 6750: no error code when absent). */
export function bearerToken(header: string | undefined): string {
  if (!header) throw unauthorized("This endpoint requires an Authorization: Bearer header.", false);
  const m = /^Bearer +([^\s]+) *$/i.exec(header);
  if (!m) throw unauthorized("The Authorization header must be 'Bearer <token>'.");
  return m[1]!;
}

/** Resolves c.get("principal") or answers 401. Mount on /v1/*. */
export function authenticate(verify: TokenVerifier, cache: AuthCache = newAuthCache()): MiddlewareHandler<V1Env> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const now = c.get("now")();
    let principal: Principal;
    if (token.startsWith("gha_")) {
      throw unauthorized("Agent credentials are only accepted by the agent API.");
    } else if (token.startsWith("ghk_")) {
      const cred = parseCredential(token);
      if (!cred) throw unauthorized("The API key is not valid.");
      principal = await apiKeyPrincipal(c.get("db"), cred.prefix, cred.secret, now, cache);
    } else {
      principal = await userPrincipal(c.get("db"), await verify(token, now), now, cache, c.get("config").tenantProvisioning ?? "auto");
    }
    c.set("principal", principal);
    await next();
  };
}

const RANK: Record<Role, number> = { viewer: 0, editor: 1, admin: 2 };

export function hasRole(principal: Pick<Principal, "role">, min: Role): boolean {
  return RANK[principal.role] >= RANK[min];
}

/** Route middleware: 403 unless the caller's role is at least `min`. */
export function requireRole(min: Role): MiddlewareHandler<V1Env> {
  // Not async: one await layer less on every request (hono's compose catches the throws alike).
  return (c, next) => {
    const p = c.get("principal") as Principal | undefined;
    if (!p) throw unauthorized("This endpoint requires authentication.", false);
    if (!hasRole(p, min)) throw new ProblemError(403, `This operation requires the ${min} role; the caller is ${p.role}.`);
    return next();
  };
}
