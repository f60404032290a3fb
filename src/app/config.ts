// Configuration from the environment. Parsing is pure (parseEnv); loadConfig also resolves the
// dev signing key, which may create <dataDir>/dev-jwt-key.json on first use.
import { resolve } from "node:path";
import { z } from "zod";
import { fieldIssues } from "../policies/issues.ts";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../protocol/agent.ts";
import { devKeyFromSecret, loadOrCreateDevKey, type DevKey } from "./dev-key.ts";

const optionalString = z.string().trim().optional().transform((s) => (s ? s : undefined));

export const Env = z.object({
  DATABASE_URL: optionalString,
  GATEHOUSE_DATA_DIR: optionalString,
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  JWT_ISSUER: z.string().min(1).default("gatehouse-dev"),
  JWT_AUDIENCE: z.string().min(1).default("gatehouse"),
  JWKS_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  // HS256 shared secret for dev tokens instead of the generated Ed25519 key file.
  DEV_JWT_SECRET: optionalString.pipe(z.string().min(32, "must be at least 32 characters").optional()),
  CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  // Audit reports carry every violation Gatekeeper kept (10,000 are about 3 MB).
  AGENT_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(16 * 1024 * 1024),
  // The bounds are the protocol's (DesiredState.agent.pollIntervalSeconds).
  AGENT_POLL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_POLL_INTERVAL_SECONDS),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});
export type Env = z.output<typeof Env>;

export interface JwtConfig {
  issuer: string;
  audience: string;
  clockSkewSeconds: number;
  /** When set, tokens are verified only against this JWKS; devKey is ignored. */
  jwksUrl?: string;
  /** Verifies (and, for `npm run token` and tests, signs) dev tokens. */
  devKey?: DevKey;
}

export interface AppConfig {
  port: number;
  databaseUrl?: string;
  dataDir: string;
  jwt: JwtConfig;
  bodyLimitBytes: number;
  agent: AgentConfig;
  logLevel: Env["LOG_LEVEL"];
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
    jwt: { issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, clockSkewSeconds: e.CLOCK_SKEW_SECONDS, jwksUrl: e.JWKS_URL, devKey },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    agent: agentConfig(e),
    logLevel: e.LOG_LEVEL,
  };
}
