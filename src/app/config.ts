// Configuration from the environment. Parsing is pure (parseEnv); loadConfig also resolves the
// dev signing key, which may create <dataDir>/dev-jwt-key.json on first use.
import { resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_POOL_WAIT_MS } from "../db/client.ts";
import { fieldIssues } from "../policies/issues.ts";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../protocol/agent.ts";
import { DEFAULT_INGEST_CONFIG, DEFAULT_PGLITE_CHUNK_SIZE, type IngestConfig } from "../services/audit-ingest.ts";
import { DEFAULT_QUOTAS, type Quotas } from "../services/quotas.ts";
import { devKeyFromSecret, loadOrCreateDevKey, type DevKey } from "./dev-key.ts";
import type { RateLimit } from "./rate-limit.ts";

export const DEFAULT_JWT_MAX_LIFETIME_SECONDS = 24 * 3600;
export const TENANT_PROVISIONING = ["auto", "closed"] as const;
export type TenantProvisioning = (typeof TENANT_PROVISIONING)[number];

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((s) => (s ? s : undefined));

export const Env = z.object({
  DATABASE_URL: optionalString,
  GATEHOUSE_DATA_DIR: optionalString,
  // Connections in the Neon driver's Pool (Node; Workers open one Pool per transaction).
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  // How long a request waits for one of them (or for a new connection to open) before it is
  // answered 503 with Retry-After; 0: no limit.
  DATABASE_POOL_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(DEFAULT_POOL_WAIT_MS),
  // The audit ingest's statements as named prepared statements on the Node pool (src/db/prepared.ts
  // executePrepared): planned once per connection, not on every report. Behind a transaction-mode
  // pooler they need protocol-level prepared statement support (PgBouncer >= 1.21 with
  // max_prepared_statements > 0; Neon's pooled endpoint has it); "false" where it is missing.
  DATABASE_PREPARED_STATEMENTS: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  // host:port of a WebSocket→TCP proxy in front of a plain (non-Neon) PostgreSQL.
  NEON_WS_PROXY: optionalString.pipe(
    z
      .string()
      .regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, "must be host:port, e.g. 127.0.0.1:5480")
      .refine((v) => Number(v.slice(v.lastIndexOf(":") + 1)) <= 65535, "port must be at most 65535")
      .optional(),
  ),
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
  JWT_MAX_LIFETIME_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86400)
    .default(DEFAULT_JWT_MAX_LIFETIME_SECONDS),
  // auto: the first valid token naming an unknown tenant creates it (development); closed: only
  // `npm run tenant:create` does, and tokens for unknown tenants are refused (403).
  TENANT_PROVISIONING: z.enum(TENANT_PROVISIONING).default("auto"),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  // Audit reports carry every violation Gatekeeper kept (10,000 are about 3 MB).
  AGENT_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  // Violations per transaction of an audit report's ingest (src/services/audit-ingest.ts);
  // unset: DEFAULT_INGEST_CONFIG on PostgreSQL, DEFAULT_PGLITE_CHUNK_SIZE on PGlite.
  AUDIT_INGEST_CHUNK_SIZE: z.coerce.number().int().min(100).max(100_000).optional(),
  // Audit-report ingests running at once per process, each holding one pooled connection while it
  // runs (src/services/audit-ingest.ts inIngestSlot); unset: a quarter of DATABASE_POOL_SIZE, at least 1.
  AUDIT_INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(1000).optional(),
  // Audit-report ingests that may wait for one of those slots (each holds its parsed report); one
  // more is answered 503 with Retry-After. 0: none wait.
  AUDIT_INGEST_QUEUE: z.coerce.number().int().min(0).max(100_000).default(100),
  // The bounds are the protocol's (DesiredState.agent.pollIntervalSeconds).
  AGENT_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_POLL_INTERVAL_SECONDS),
  // Webhooks (src/services/webhook-dispatcher.ts). Private/loopback/link-local targets and plain
  // http are refused unless allowed (tests, local receivers).
  WEBHOOK_ALLOW_HTTP: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  WEBHOOK_DISPATCH_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  // Finished deliveries (and their attempts) are deleted this long after they finished.
  WEBHOOK_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // Per-tenant quotas (src/services/quotas.ts): a create beyond one is 409 naming the variable.
  TENANT_MAX_ENVIRONMENTS: z.coerce.number().int().min(1).default(DEFAULT_QUOTAS.environments),
  TENANT_MAX_WEBHOOKS: z.coerce.number().int().min(1).default(DEFAULT_QUOTAS.webhooks),
  TENANT_MAX_API_KEYS: z.coerce.number().int().min(1).default(DEFAULT_QUOTAS.apiKeys),
  TENANT_MAX_AGENT_CREDENTIALS: z.coerce.number().int().min(1).default(DEFAULT_QUOTAS.agentCredentials),
  TENANT_MAX_DRAFTS: z.coerce.number().int().min(1).default(DEFAULT_QUOTAS.drafts),
  // Per-credential token buckets (src/app/rate-limit.ts); a rate of 0 turns that limit off.
  RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(100_000).default(50),
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  AGENT_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(100_000).default(5),
  AGENT_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(60),
  // The admission-denial history keeps a denial this long after it was last seen.
  DENIAL_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  // A denial that keeps happening is notified again (admission.denied / warned) at most this often.
  DENIAL_NOTIFY_WINDOW_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * 86_400)
    .default(3600),
  // When set, GET /metrics (Node) needs `Authorization: Bearer <token>`; unset, it is open.
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, "must be at least 16 characters").optional()),
  // The console's OpenID Connect sign-in (authorization code + PKCE) when JWKS_URL is set: the
  // client registered at the issuer (a public client: no secret) and the issuer to discover.
  CONSOLE_OIDC_CLIENT_ID: optionalString,
  CONSOLE_OIDC_ISSUER: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  CONSOLE_OIDC_SCOPE: z.string().min(1).default("openid"),
  // Drafts (src/services/drafts.ts): how long one stays open, and how many an environment may have.
  DRAFT_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(7),
  DRAFTS_PER_ENVIRONMENT: z.coerce.number().int().min(1).max(100).default(10),
  // Rollout plans (src/services/rollouts.ts): how often Node's scheduler looks for due steps (0: off; Workers use the Cron Trigger).
  ROLLOUT_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(60_000),
  // After a secret rotation the old secret signs too (a second signature) this long: 0 cuts over at once.
  WEBHOOK_SECRET_OVERLAP_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(30 * 86_400)
    .default(86_400),
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
  // The next five are for whoever opens the database and starts the process (node.ts); the app
  // itself never reads them, so a config built in code may leave them out.
  /** Neon driver Pool size (Node). */
  databasePoolSize?: number;
  /** How long a request waits for a pooled connection before a 503 (Node; 0: no limit). */
  databasePoolWaitMs?: number;
  /** Named prepared statements on the Neon driver Pool (Node). */
  databasePreparedStatements?: boolean;
  /** WebSocket→TCP proxy (host:port) for a plain PostgreSQL behind the Neon driver. */
  neonWsProxy?: string;
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
  /** Defaults (DEFAULT_DRAFT_CONFIG) when absent. */
  drafts?: DraftConfig;
  logLevel: Env["LOG_LEVEL"];
  /** Bearer token GET /metrics requires; unset: open. */
  metricsToken?: string;
  /** Node's rollout scheduler period (ROLLOUT_INTERVAL_MS); 0 or absent: not started. */
  rolloutIntervalMs?: number;
  /** Days a denial is kept after it was last seen; absent: 30. */
  denialRetentionDays?: number;
  /** Seconds between two webhooks for a denial that keeps happening unchanged; absent: 3600. */
  denialNotifyWindowSeconds?: number;
  /** Per-tenant limits; absent: DEFAULT_QUOTAS. */
  quotas?: Quotas;
  /** Chunked audit-report ingest; absent: DEFAULT_INGEST_CONFIG. */
  ingest?: IngestConfig;
  /** Per-credential request rates for /v1 (users, API keys) and /agent/v1; absent: no limit. */
  rateLimits?: { api: RateLimit; agent: RateLimit };
  /** The console's OIDC sign-in (src/console/routes.ts); the issuer defaults to jwt.issuer. */
  console?: ConsoleConfig;
}

export interface ConsoleConfig {
  oidcClientId?: string;
  oidcIssuer?: string;
  oidcScope: string;
}

export function consoleConfig(e: Env): ConsoleConfig {
  return { oidcClientId: e.CONSOLE_OIDC_CLIENT_ID, oidcIssuer: e.CONSOLE_OIDC_ISSUER, oidcScope: e.CONSOLE_OIDC_SCOPE };
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
  /** Seconds the secret before a rotation keeps signing beside the new one (0: none). */
  secretOverlapSeconds: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowHttp: false,
  allowPrivate: false,
  dispatchIntervalMs: 5000,
  timeoutMs: 10_000,
  retentionDays: 30,
  secretOverlapSeconds: 86_400,
};

export function webhookConfig(e: Env): WebhookConfig {
  return {
    allowHttp: e.WEBHOOK_ALLOW_HTTP,
    allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
    dispatchIntervalMs: e.WEBHOOK_DISPATCH_INTERVAL_MS,
    timeoutMs: e.WEBHOOK_TIMEOUT_MS,
    retentionDays: e.WEBHOOK_RETENTION_DAYS,
    secretOverlapSeconds: e.WEBHOOK_SECRET_OVERLAP_SECONDS,
  };
}

export interface DraftConfig {
  /** Days a draft stays open after it was created or last updated. */
  ttlDays: number;
  /** Open drafts an environment may have at once. */
  perEnvironment: number;
}

export const DEFAULT_DRAFT_CONFIG: DraftConfig = { ttlDays: 7, perEnvironment: 10 };

export function draftConfig(e: Env): DraftConfig {
  return { ttlDays: e.DRAFT_TTL_DAYS, perEnvironment: e.DRAFTS_PER_ENVIRONMENT };
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
    throw new ConfigError(
      `invalid configuration:\n${fieldIssues(parsed.error)
        .map((i) => `  ${i.path}: ${i.message}`)
        .join("\n")}`,
    );
  }
  return parsed.data;
}

/** What loadConfig returns: every setting read from the environment is there. */
export type LoadedConfig = AppConfig & Required<Pick<AppConfig, "databasePoolSize" | "databasePreparedStatements" | "databasePoolWaitMs">>;

export async function loadConfig(env: Record<string, string | undefined> = process.env): Promise<LoadedConfig> {
  const e = parseEnv(env);
  const dataDir = resolve(e.GATEHOUSE_DATA_DIR ?? ".gatehouse/data");
  let devKey: DevKey | undefined;
  if (!e.JWKS_URL) devKey = e.DEV_JWT_SECRET ? devKeyFromSecret(e.DEV_JWT_SECRET) : await loadOrCreateDevKey(dataDir);
  return {
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databasePoolSize: e.DATABASE_POOL_SIZE,
    databasePreparedStatements: e.DATABASE_PREPARED_STATEMENTS,
    databasePoolWaitMs: e.DATABASE_POOL_WAIT_MS,
    neonWsProxy: e.NEON_WS_PROXY,
    dataDir,
    publicUrl: e.PUBLIC_URL,
    jwt: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
      maxLifetimeSeconds: e.JWT_MAX_LIFETIME_SECONDS,
      jwksUrl: e.JWKS_URL,
      devKey,
    },
    tenantProvisioning: e.TENANT_PROVISIONING,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    agent: agentConfig(e),
    webhooks: webhookConfig(e),
    console: consoleConfig(e),
    drafts: draftConfig(e),
    rolloutIntervalMs: e.ROLLOUT_INTERVAL_MS,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    denialRetentionDays: e.DENIAL_RETENTION_DAYS,
    denialNotifyWindowSeconds: e.DENIAL_NOTIFY_WINDOW_SECONDS,
    quotas: {
      environments: e.TENANT_MAX_ENVIRONMENTS,
      webhooks: e.TENANT_MAX_WEBHOOKS,
      apiKeys: e.TENANT_MAX_API_KEYS,
      agentCredentials: e.TENANT_MAX_AGENT_CREDENTIALS,
      drafts: e.TENANT_MAX_DRAFTS,
    },
    ingest: {
      chunkSize: e.AUDIT_INGEST_CHUNK_SIZE ?? (e.DATABASE_URL ? DEFAULT_INGEST_CONFIG.chunkSize : DEFAULT_PGLITE_CHUNK_SIZE),
      concurrency: e.AUDIT_INGEST_CONCURRENCY ?? Math.max(1, Math.floor(e.DATABASE_POOL_SIZE / 4)),
      queue: e.AUDIT_INGEST_QUEUE,
    },
    rateLimits: {
      api: { perSecond: e.RATE_LIMIT_PER_SECOND, burst: e.RATE_LIMIT_BURST },
      agent: { perSecond: e.AGENT_RATE_LIMIT_PER_SECOND, burst: e.AGENT_RATE_LIMIT_BURST },
    },
  };
}

/** What npm start opens the database with (openDatabase's options), from the loaded config. */
export function databaseOptions(config: LoadedConfig) {
  return {
    url: config.databaseUrl,
    dataDir: config.dataDir,
    wsProxy: config.neonWsProxy,
    poolSize: config.databasePoolSize,
    preparedStatements: config.databasePreparedStatements,
    poolWaitMs: config.databasePoolWaitMs,
  };
}
