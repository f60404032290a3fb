// The console's server side, all outside /v1 because none of it is the API: the static files
// (Node only; Workers serve them from the assets binding before the app runs), the sign-in
// configuration the page needs before it has a token, and — only while the development key is
// in use (no JWKS_URL) — POST /dev/token, the HTTP twin of `npm run token`, for the console's
// "development sign-in". With JWKS_URL set that route does not exist (404), so no deployment that
// trusts a real identity provider can mint tokens.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { z } from "zod";
import type { AppConfig } from "../app/config.ts";
import { mintDevToken } from "../app/dev-key.ts";
import { ROLES, TenantSlug, type AppEnv } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import { fieldIssues } from "../policies/issues.ts";
import type { ConsoleAssets } from "./serve.ts";

export const DEV_TOKEN_PATH = "/dev/token";

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6 (::ffff:127.x.y.z). */
export const isLoopback = (address: string) => /^(127\.|::ffff:127\.)/.test(address) || address === "::1";
const DEV_TOKEN_TTL_SECONDS = 3600;

const DevTokenRequest = z.strictObject({
  tenant: TenantSlug,
  role: z.enum(ROLES),
  sub: z.string().trim().min(1).max(200).default("dev"),
});

/** What the sign-in page offers: development sign-in, OpenID Connect, or nothing configured. */
export function consoleSignIn(config: AppConfig) {
  if (!config.jwt.jwksUrl) return config.jwt.devKey ? { mode: "development" as const } : { mode: "none" as const };
  const oidc = config.console;
  if (!oidc?.oidcClientId) return { mode: "none" as const };
  return { mode: "oidc" as const, issuer: oidc.oidcIssuer ?? config.jwt.issuer, clientId: oidc.oidcClientId, scope: oidc.oidcScope };
}

export function registerConsole(app: OpenAPIHono<AppEnv>, config: AppConfig, assets?: ConsoleAssets): void {
  app.get("/console/config.json", (c) => c.json({ signIn: consoleSignIn(config) }, 200, { "cache-control": "no-store" }));

  const devKey = config.jwt.jwksUrl ? undefined : config.jwt.devKey;
  if (devKey) {
    app.post(DEV_TOKEN_PATH, async (c) => {
      // `npm start` listens on every interface: a token for any tenant and role is for this
      // machine's own browser only, never for a peer on the network.
      const remote = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress;
      if (remote !== undefined && !isLoopback(remote)) throw new ProblemError(403, "Development sign-in is only served to this machine (a loopback address).");
      const body = await c.req.json().catch(() => {
        throw new ProblemError(400, "The body must be JSON: {tenant, role, sub?}.");
      });
      const parsed = DevTokenRequest.safeParse(body);
      if (!parsed.success) throw new ProblemError(400, "Invalid development sign-in.", { errors: fieldIssues(parsed.error) });
      const { tenant, role, sub } = parsed.data;
      const token = await mintDevToken(
        devKey,
        { sub, tenant, role },
        {
          issuer: config.jwt.issuer,
          audience: config.jwt.audience,
          ttlSeconds: DEV_TOKEN_TTL_SECONDS,
          now: c.get("now")(),
        },
      );
      return c.json({ token, expiresIn: DEV_TOKEN_TTL_SECONDS }, 200, { "cache-control": "no-store" });
    });
  }

  if (!assets) return;
  app.get("/", (c) => assets.index(c));
  app.get("/console/vendor/:name", (c) => assets.vendor(c, c.req.param("name")));
  app.get("/console/:name", (c) => assets.asset(c, c.req.param("name")));
}
