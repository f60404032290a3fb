// Authentication for the agent protocol (/agent/v1/*). The only accepted credential is an agent
// credential (gha_<prefix>_<secret>), and it is bound to one environment: every agent route acts
// on c.get("agent").environmentId and nothing else. User JWTs and API keys are refused here, as
// agent credentials are refused on /v1 (auth.ts).
import { and, eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import type { Database } from "../db/client.ts";
import { agentCredentials } from "../db/schema.ts";
import { bearerToken, dueForTouch, newAuthCache, remember, touchIsStale, unauthorized, type AuthCache } from "./auth.ts";
import { parseCredential, secretMatches } from "./credentials.ts";
import type { AgentPrincipal, AppEnv } from "./env.ts";

const ONLY_AGENT_CREDENTIALS = "This API accepts only agent credentials (gha_…); user tokens and API keys are refused.";

// Looked up on every request, so revoking or rotating a credential takes effect at once; only the
// "last used" write is skipped when this process made it less than a minute ago.
async function agentPrincipal(db: Database, prefix: string, secret: string, now: Date, cache: AuthCache): Promise<AgentPrincipal> {
  const row = await db.asSystem(async (tx) =>
    (
      await tx
        .select({
          id: agentCredentials.id,
          tenantId: agentCredentials.tenantId,
          environmentId: agentCredentials.environmentId,
          secretHash: agentCredentials.secretHash,
          revokedAt: agentCredentials.revokedAt,
        })
        .from(agentCredentials)
        .where(eq(agentCredentials.prefix, prefix))
    )[0],
  );
  if (!row || !secretMatches(secret, row.secretHash)) throw unauthorized("The agent credential is not valid.");
  if (row.revokedAt) throw unauthorized("The agent credential has been revoked.");
  const key = `agent|${row.id}`;
  if (dueForTouch(cache, key, now)) {
    await db.withTenant(row.tenantId, (tx) =>
      tx
        .update(agentCredentials)
        .set({ lastUsedAt: now })
        .where(and(eq(agentCredentials.id, row.id), eq(agentCredentials.tenantId, row.tenantId), touchIsStale(agentCredentials.lastUsedAt, now))),
    );
    remember(cache.touched, key, now.getTime());
  }
  return { tenantId: row.tenantId, environmentId: row.environmentId, credentialId: row.id, prefix };
}

/** Resolves c.get("agent") or answers 401. Mount on /agent/v1/*. */
export function authenticateAgent(cache: AuthCache = newAuthCache()): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const cred = parseCredential(token);
    if (!cred) {
      // A malformed gha_ token is a bad agent credential; anything else is the wrong kind.
      throw unauthorized(token.startsWith("gha_") ? "The agent credential is not valid." : ONLY_AGENT_CREDENTIALS);
    }
    if (cred.kind !== "gha") throw unauthorized(ONLY_AGENT_CREDENTIALS);
    c.set("agent", await agentPrincipal(c.get("db"), cred.prefix, cred.secret, c.get("now")(), cache));
    await next();
  };
}
