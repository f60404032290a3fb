// Sign-in. With the development key (no JWKS_URL) the server offers POST /dev/token, which mints
// a token for any tenant and role, exactly like `npm run token`. With JWKS_URL it offers OpenID
// Connect: authorization code + PKCE against the issuer (found by discovery), a public client
// (no secret). Only the PKCE verifier and state survive the redirect (sessionStorage, deleted on
// return); the token itself stays in memory (api.js).
import { ApiError, get, request, setToken } from "./api.js";

const PENDING = "gatehouse.oidc.pending";

export async function signInConfig() {
  return (await (await fetch("/console/config.json")).json()).signIn;
}

/** The signed-in session: the token's tenant and role as the API sees them (GET /v1/tenant). */
async function sessionFor(token, via) {
  setToken(token);
  try {
    const tenant = await get("/v1/tenant");
    return { tenant: tenant.slug, role: tenant.role, via };
  } catch (e) {
    setToken(null);
    throw e;
  }
}

export async function devSignIn(tenant, role, sub) {
  const body = { tenant, role };
  if (sub) body.sub = sub;
  const { data } = await request("POST", "/dev/token", { body });
  return sessionFor(data.token, "development");
}

const b64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const random = (n) => b64url(crypto.getRandomValues(new Uint8Array(n)));

async function discover(issuer) {
  const res = await fetch(`${issuer.replace(/\/+$/, "")}/.well-known/openid-configuration`);
  if (!res.ok) throw new Error(`OpenID discovery at ${issuer} failed: HTTP ${res.status}`);
  return res.json();
}

const redirectUri = () => `${location.origin}/`;

/** Leaves the page for the issuer's authorization endpoint. */
export async function startOidc(cfg) {
  const meta = await discover(cfg.issuer);
  const verifier = random(32);
  const state = random(16);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL(meta.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: cfg.clientId,
    redirect_uri: redirectUri(),
    scope: cfg.scope ?? "openid",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  location.assign(url.toString());
}

/** On return from the issuer (?code=&state=): exchange the code; undefined when this is no return. */
export async function completeOidc(cfg) {
  const q = new URLSearchParams(location.search);
  if (!q.has("code") && !q.has("error")) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? "null");
  sessionStorage.removeItem(PENDING);
  // Back to the page the sign-in started on, without the code in the address bar or history.
  history.replaceState(null, "", `/${pending?.hash ?? ""}`);
  dispatchEvent(new HashChangeEvent("hashchange"));
  if (q.has("error")) throw new Error(`The identity provider refused the sign-in: ${q.get("error_description") ?? q.get("error")}`);
  if (!pending || pending.state !== q.get("state")) throw new Error("The sign-in response does not match this browser's request; sign in again.");
  const meta = await discover(cfg.issuer);
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: q.get("code"),
    redirect_uri: redirectUri(),
    client_id: cfg.clientId,
    code_verifier: pending.verifier,
  });
  const res = await fetch(meta.token_endpoint, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form });
  const body = await res.json().catch(() => ({}));
  if (!res.ok || !(body.access_token || body.id_token))
    throw new Error(`The token exchange failed: ${body.error_description ?? body.error ?? `HTTP ${res.status}`}`);
  // The API verifies the token with the issuer's JWKS, audience JWT_AUDIENCE: the access token.
  return sessionFor(body.access_token ?? body.id_token, "oidc");
}

export function signOut() {
  setToken(null);
}

export { ApiError };
