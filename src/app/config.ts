// Configuration from the environment. Parsing is pure (parseEnv); loadConfig also resolves the
// dev signing key, which may create <dataDir>/dev-jwt-key.json on first use.
import { resolve } from "node:path";
import { z } from "zod";
import { fieldIssues } from "../policies/issues.ts";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../protocol/agent.ts";
import { devKeyFromSecret, loadOrCreateDevKey, type DevKey } from "./dev-key.ts";

export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 3600;
export const TENANT_PROVISIONING = ["auto", "closed"] as const;
export type TenantProvisioning = (typeof TENANT_PROVISIONING)[number];

const optionalString = z.string().trim().optional().transform((s) => (s ? s : undefined));

export const Env = z.object({
  DATABASE_URL: optionalString,
  GATEHOUSE_DATA_DIR: optionalString,
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  JWT_ISSUER: z.string().min(1).default("gatehouse-dev"),
  JWT_AUDIENCE: z.string().min(1).default("gatehouse"),
  JWKS_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  // The API's external base URL, written into agent manifests (unset: each request's origin). A
  // path prefix is kept (behind a proxy); a trailing slash is dropped, as the agent drops it.
  PUBLIC_URL: optionalString.pipe(
    z
      .url({ protocol: /^https?$/ })
      .refine((u) => !/[?#]/.test(u), "must not have a query or fragment")
      .transform((u) => u.replace(/\/+$/, ""))
      .optional(),
  ),
  // HS256 shared secret for dev tokens instead of the generated Ed25519 key file.
  DEV_JWT_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  // The longest lifetime a JWT may claim (exp − iat, or exp − now without iat): a leaked token with
  // exp = 1e300 must not be a key for ever. 60 s – 30 days; default 24 h.
  JWT_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(60).max(30 * 86400).default(DEFAULT_JWT_MAX_LIFETIME_SECONDS),
  // auto: the first valid token naming an unknown tenant creates it (development); closed: only
  // `npm run tenant:create` does, and tokens for unknown tenants are refused (403).
  TENANT_PROVISIONING: z.enum(TENANT_PROVISIONING).default("auto"),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  // Audit reports carry every violation Gatekeeper kept (10,000 are about 3 MB).
  AGENT_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(16 * 1024 * 1024),
  // The bounds are the protocol's (DesiredState.agent.pollIntervalSeconds).
  AGENT_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_POLL_INTERVAL_SECONDS),
  // Webhooks (src/services/webhook-dispatcher.ts). Private/loopback/link-local targets and plain
  // http are refused unless allowed (tests, local receivers).
  WEBHOOK_ALLOW_HTTP: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  WEBHOOK_ALLOW_PRIVATE: z.enum(["true", "false"]).default("false").transform((v) => v === "true"),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Finished deliveries (and their attempts) are deleted this long after they finished.
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type Env = z.output<typeof Env>;

export interface JwtConfig {
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  /** Tokens claiming a longer lifetime are refused (default DEFAULT_JWT_MAX_LIFETIME_SECONDS). */
  maxLifetimeSeconds?: number;
  /** When set, tokens are verified only against this JWKS; devKey is ignored. */
  jwksUrl?: string;
  /** Verifies (and, for `npm run token` and tests, signs) dev tokens. */
  devKey?: DevKey;
}

export interface AppConfig {
  port: number;
  databaseUrl?: string;
  dataDir: string;
  /** The API's external base URL for agent manifests; unset: the request's origin. No trailing slash. */
  publicUrl?: string;
  jwt: JwtConfig;
  /** Whether a token may create its tenant on first sight (default "auto"). */
  tenantProvisioning?: TenantProvisioning;
  bodyLimitBytes: number;
  agent: AgentConfig;
  /** Defaults (DEFAULT_WEBHOOK_CONFIG) when absent. */
  webhooks?: WebhookConfig;
  logLevel: Env["LOG_LEVEL"];
}

export interface WebhookConfig {
  /** Accept http:// endpoint URLs (default: https only). */
  allowHttp: boolean;
  /** Accept endpoints on private, loopback and link-local addresses (default: refused: SSRF). */
  allowPrivate: boolean;
  /** How often `npm start` runs the dispatcher; 0 disables it (Workers use a Cron Trigger). */
  dispatchIntervalMs: number;
  /** Per-attempt HTTP timeout. */
  timeoutMs: number;
  /** Days a succeeded or failed delivery (with its attempt log) is kept after it finished. */
  retentionDays: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = { allowHttp: false, allowPrivate: false, dispatchIntervalMs: 5000, timeoutMs: 10_000, retentionDays: 30 };

export function webhookConfig(e: Env): WebhookConfig {
  return {
    allowHttp: e.WEBHOOK_ALLOW_HTTP,
    allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retentionDays: e.WEBHOOK_RETENTION_DAYS,
  };
}

export interface AgentConfig {
  /** Told to every agent in its desired state; also what "offline" is measured in. */
  pollIntervalSeconds: number;
  /** Body limit of POST /agent/v1/audit-report (every other route has bodyLimitBytes). */
  bodyLimitBytes: number;
}

export function agentConfig(e: Env): AgentConfig {
  return { pollIntervalSeconds: e.AGENT_POLL_INTERVAL_SECONDS, bodyLimitBytes: e.AGENT_BODY_LIMIT_BYTES };
}

export class ConfigError extends Error {}

export function parseEnv(env: Record<string, string | undefined> = process.env): Env {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(`invalid configuration:\n${fieldIssues(parsed.error).map((i) => `  ${i.path}: ${i.message}`).join("\n")}`);
  }
  return parsed.data;
}

export async function loadConfig(env: Record<string, string | undefined> = process.env): Promise<AppConfig> {
  const e = parseEnv(env);
  const dataDir = resolve(e.GATEHOUSE_DATA_DIR ?? ".gatehouse/data");
  let devKey: DevKey | undefined;
  if (!e.JWKS_URL) devKey = e.DEV_JWT_SECRET ? devKeyFromSecret(e.DEV_JWT_SECRET) : await loadOrCreateDevKey(dataDir);
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir,
    publicUrl: e.PUBLIC_URL,
    jwt: { issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, clockSkewSeconds: e.CLOCK_SKEW_SECONDS, maxLifetimeSeconds: e.JWT_MAX_LIFETIME_SECONDS, jwksUrl: e.JWKS_URL, devKey },
    tenantProvisioning: e.TENANT_PROVISIONING,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    agent: agentConfig(e),
    webhooks: webhookConfig(e),
    logLevel: e.LOG_LEVEL,
  };
}
