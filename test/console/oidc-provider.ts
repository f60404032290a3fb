// A minimal OpenID Connect provider for the console's sign-in test: discovery, an authorization
// endpoint that approves the configured user at once (there is no login form to drive), a token
// endpoint that enforces PKCE (S256), the client id and the redirect URI, and a JWKS. Tokens are
// real EdDSA JWTs that the API verifies through JWKS_URL like any provider's.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { SignJWT } from "jose";
import { generateDevKey } from "../../src/app/dev-key.ts";

export interface TestOidcProvider {
  issuer: string;
  jwksUrl: string;
  clientId: string;
  /** Who /authorize signs in. */
  user: { sub: string; tenant: string; role: string };
  /** Every token request and whether its PKCE verifier matched. */
  exchanges: { pkce: boolean; status: number }[];
  close(): Promise<void>;
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let s = "";
    req.on("data", (d) => (s += d));
    req.on("end", () => resolve(s));
  });

export async function startOidcProvider(audience: string): Promise<TestOidcProvider> {
  const { key } = await generateDevKey();
  if (key.alg !== "EdDSA") throw new Error("unreachable");
  const codes = new Map<string, { challenge: string; redirectUri: string; clientId: string }>();
  const provider = {
    clientId: "gatehouse-console",
    user: { sub: "oidc-user", tenant: "acme-oidc", role: "editor" },
    exchanges: [] as TestOidcProvider["exchanges"],
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url!, issuer);
    // The console calls discovery and the token endpoint from its own origin.
    res.setHeader("access-control-allow-origin", "*");
    const send = (status: number, json: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    if (url.pathname === "/.well-known/openid-configuration") {
      return send(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks.json`,
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks.json") return send(200, { keys: [key.publicJwk] });
    if (url.pathname === "/authorize") {
      const q = url.searchParams;
      if (
        q.get("response_type") !== "code" ||
        q.get("client_id") !== provider.clientId ||
        q.get("code_challenge_method") !== "S256" ||
        !q.get("code_challenge")
      ) {
        return send(400, { error: "invalid_request" });
      }
      const code = randomBytes(16).toString("hex");
      codes.set(code, { challenge: q.get("code_challenge")!, redirectUri: q.get("redirect_uri")!, clientId: q.get("client_id")! });
      const back = new URL(q.get("redirect_uri")!);
      back.searchParams.set("code", code);
      back.searchParams.set("state", q.get("state")!);
      return res.writeHead(302, { location: back.toString() }).end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      const form = new URLSearchParams(await body(req));
      const grant = codes.get(form.get("code") ?? "");
      codes.delete(form.get("code") ?? "");
      const pkce =
        !!grant &&
        createHash("sha256")
          .update(form.get("code_verifier") ?? "")
          .digest("base64url") === grant.challenge;
      const ok =
        pkce && grant.clientId === form.get("client_id") && grant.redirectUri === form.get("redirect_uri") && form.get("grant_type") === "authorization_code";
      provider.exchanges.push({ pkce, status: ok ? 200 : 400 });
      if (!ok) return send(400, { error: "invalid_grant" });
      const token = await new SignJWT({ tenant: provider.user.tenant, role: provider.user.role })
        .setProtectedHeader({ alg: "EdDSA", kid: key.kid })
        .setSubject(provider.user.sub)
        .setIssuer(issuer)
        .setAudience(audience)
        .setIssuedAt()
        .setExpirationTime("10m")
        .sign(key.privateKey);
      return send(200, { access_token: token, token_type: "Bearer", expires_in: 600 });
    }
    send(404, { error: "not_found" });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { ...provider, issuer, jwksUrl: `${issuer}/jwks.json`, close: () => new Promise((r) => server.close(() => r())) };
}
