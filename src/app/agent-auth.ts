// Authentication for the agent protocol (/agent/v1/*). The only accepted credential is an agent
// credential (gha_<prefix>_<secret>), and it is bound to one environment: every agent route acts
// on c.get("agent").environmentId and nothing else. User JWTs and API keys are refused here, as
// agent credentials are refused on /v1 (auth.ts).
//
// The credential comes with its environment's desired-state inputs from one statement, or from
// the per-instance cache that a rotation, revocation or deletion anywhere invalidates at commit
// (src/services/agent-state.ts): revoking or rotating a credential takes effect at once.
import type { MiddlewareHandler } from "hono";
import type { Database } from "../db/client.ts";
import { agentStateCache, TOUCH_MS, type AgentStateCache } from "../services/agent-state.ts";
import { bearerToken, unauthorized } from "./auth.ts";
import { hashSecret, parseCredential, secretMatches } from "./credentials.ts";
import type { AgentEnv, AgentPrincipal } from "./env.ts";

const ONLY_AGENT_CREDENTIALS = "This API accepts only agent credentials (gha_…); user tokens and API keys are refused.";

// "Last used" is written by the same statement that reads the credential, at most once per
// TOUCH_MS per credential from each process (due: then the cache is bypassed for that request).
// Keyed by prefix and marked before the secret is checked, so a flood of forged secrets for one
// prefix costs one read per TOUCH_MS, not one per request.
async function agentPrincipal(
  db: Database,
  cache: AgentStateCache,
  touched: Map<string, number>,
  prefix: string,
  secret: string,
  now: Date,
): Promise<AgentPrincipal> {
  const last = touched.get(prefix);
  const due = last === undefined || now.getTime() - last >= TOUCH_MS || now.getTime() < last;
  if (due) {
    if (touched.size >= 100_000) touched.clear();
    touched.set(prefix, now.getTime());
  }
  let state = await cache.get(db, prefix, now, due ? hashSecret(secret) : undefined);
  // One hash per request on the hot path (a cached 304 is otherwise two map lookups).
  let matches = state !== null && secretMatches(secret, state.secretHash);
  // A cached credential the secret does not match may have been rotated a moment ago (elsewhere,
  // the notification still on its way): read it again before refusing.
  if (state && !due && !matches) {
    state = await cache.get(db, prefix, now, hashSecret(secret));
    matches = state !== null && secretMatches(secret, state.secretHash);
  }
  if (!state || !matches) throw unauthorized("The agent credential is not valid.");
  if (state.revoked) throw unauthorized("The agent credential has been revoked.");
  return { tenantId: state.tenantId, environmentId: state.environmentId, credentialId: state.credentialId, prefix, state };
}

/**
 * Resolves c.get("agent") or answers 401. Mount on /agent/v1/*. `listenOn`: the database whose
 * notifications keep the cache right (absent, or without a listener, every request reads).
 */
export function authenticateAgent(listenOn?: Database): MiddlewareHandler<AgentEnv> {
  const cache = agentStateCache(listenOn);
  const touched = new Map<string, number>();
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    const cred = parseCredential(token);
    if (!cred) {
      // A malformed gha_ token is a bad agent credential; anything else is the wrong kind.
      throw unauthorized(token.startsWith("gha_") ? "The agent credential is not valid." : ONLY_AGENT_CREDENTIALS);
    }
    if (cred.kind !== "gha") throw unauthorized(ONLY_AGENT_CREDENTIALS);
    c.set("agent", await agentPrincipal(c.get("db"), cache, touched, cred.prefix, cred.secret, c.get("now")()));
    await next();
  };
}
