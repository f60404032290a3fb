// Per-tenant quotas: how many environments, webhook endpoints, live API keys, live agent
// credentials and open drafts one tenant may hold, so that one tenant cannot grow the shared database (or the
// dispatcher's work) without bound. Checked inside the creating transaction, after a per-tenant
// advisory lock, so two concurrent creates cannot both slip under the limit.
import { sql } from "drizzle-orm";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";

export interface Quotas {
  environments: number;
  webhooks: number;
  apiKeys: number;
  agentCredentials: number;
  /** Open drafts (not expired) across the tenant's environments. */
  drafts: number;
}
export type QuotaKind = keyof Quotas;

export const DEFAULT_QUOTAS: Quotas = { environments: 500, webhooks: 50, apiKeys: 100, agentCredentials: 1000, drafts: 200 };

/** The setting that raises each quota, named in the refusal so an operator knows what to change. */
export const QUOTA_VARIABLES: Record<QuotaKind, string> = {
  environments: "TENANT_MAX_ENVIRONMENTS",
  webhooks: "TENANT_MAX_WEBHOOKS",
  apiKeys: "TENANT_MAX_API_KEYS",
  agentCredentials: "TENANT_MAX_AGENT_CREDENTIALS",
  drafts: "TENANT_MAX_DRAFTS",
};

const NOUNS: Record<QuotaKind, string> = {
  environments: "environments",
  webhooks: "webhook endpoints",
  apiKeys: "API keys that are not revoked",
  agentCredentials: "agent credentials that are not revoked",
  drafts: "open drafts",
};

// Revoked keys and credentials do not count: revoking is how a tenant makes room.
const COUNTS: Record<QuotaKind, (tenantId: string) => ReturnType<typeof sql>> = {
  environments: (t) => sql`select count(*)::int as n from environments where tenant_id = ${t}`,
  webhooks: (t) => sql`select count(*)::int as n from webhook_endpoints where tenant_id = ${t}`,
  apiKeys: (t) => sql`select count(*)::int as n from api_keys where tenant_id = ${t} and revoked_at is null`,
  agentCredentials: (t) => sql`select count(*)::int as n from agent_credentials where tenant_id = ${t} and revoked_at is null`,
  // Expired drafts do not count: they no longer run in any cluster.
  drafts: (t) => sql`select count(*)::int as n from drafts where tenant_id = ${t} and expires_at > now()`,
};

const QUOTA_LOCK = 7262102;

/** Throws 409 problem+json naming the limit when the tenant already holds `quotas[kind]`. */
export async function enforceQuota(tx: Db, tenantId: string, kind: QuotaKind, quotas: Quotas = DEFAULT_QUOTAS): Promise<void> {
  // Held to the end of the transaction: the next create of this kind waits for our insert.
  await tx.execute(sql`select pg_advisory_xact_lock(${QUOTA_LOCK}, hashtext(${`${tenantId}:${kind}`}))`);
  const { rows } = await tx.execute<{ n: number }>(COUNTS[kind](tenantId));
  const limit = quotas[kind];
  if ((rows[0]?.n ?? 0) >= limit) {
    throw new ProblemError(
      409,
      `This tenant has reached its limit of ${limit} ${NOUNS[kind]} (${QUOTA_VARIABLES[kind]}). Delete or revoke one, or ask the operator to raise the limit.`,
    );
  }
}
