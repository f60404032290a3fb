// Cloudflare Workers entry: the same Hono app, against Postgres through the Neon driver.
// Workers cannot share a connection between requests, so every database call opens a Pool for
// its transaction and closes it after (Neon's guidance for serverless). Migrations are not run
// here (no filesystem): run `npm run db:migrate` against DATABASE_URL before deploying.
import { neonConfig, Pool } from "@neondatabase/serverless";
import { pino } from "pino";
import { createApp } from "./app/app.ts";
import { agentConfig, ConfigError, consoleConfig, parseEnv, webhookConfig, type AppConfig } from "./app/config.ts";
import type { Deferred } from "./app/deferred.ts";
import { devKeyFromSecret } from "./app/dev-key.ts";
import { fromNeonPool, type Database, type Db } from "./db/client.ts";
import { resumeUnfinished } from "./services/audit-background.ts";
import { runRolloutPass } from "./services/rollouts.ts";
import { createDispatcher } from "./services/webhook-dispatcher.ts";

type Bindings = Record<string, string | undefined>;

function configFrom(env: Bindings): AppConfig {
  const e = parseEnv(env);
  if (!e.DATABASE_URL) throw new ConfigError("DATABASE_URL is required on Workers (a Neon connection string)");
  if (!e.JWKS_URL && !e.DEV_JWT_SECRET) {
    throw new ConfigError("JWKS_URL is required on Workers (or DEV_JWT_SECRET for local development)");
  }
  return {
    port: 0,
    databaseUrl: e.DATABASE_URL,
    neonWsProxy: e.NEON_WS_PROXY,
    dataDir: "",
    jwt: {
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
      clockSkewSeconds: e.CLOCK_SKEW_SECONDS,
      maxLifetimeSeconds: e.JWT_MAX_LIFETIME_SECONDS,
      jwksUrl: e.JWKS_URL,
      devKey: e.JWKS_URL ? undefined : devKeyFromSecret(e.DEV_JWT_SECRET!),
    },
    tenantProvisioning: e.TENANT_PROVISIONING,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    publicUrl: e.PUBLIC_URL,
    agent: agentConfig(e),
    webhooks: webhookConfig(e),
    console: consoleConfig(e),
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * A Database for one request: its Pool (of one connection) is opened by the first query and ended
 * once the response is out (ctx.waitUntil), so a request holds at most one connection, and a
 * request that needs none opens none. Behind Neon's pooled endpoint (a transaction-mode pooler)
 * that connection is the pooler's, not a PostgreSQL backend of its own.
 */
function requestDatabase(url: string): { db: Database; end(): Promise<void> } {
  let pool: Pool | undefined;
  let opened: Promise<Database> | undefined;
  const open = () => {
    if (!opened) {
      pool = new Pool({ connectionString: url, max: 1 });
      opened = fromNeonPool(pool);
    }
    return opened;
  };
  const db: Database = {
    withTenant: async <T>(tenantId: string, fn: (tx: Db) => Promise<T>) => (await open()).withTenant(tenantId, fn),
    asSystem: async <T>(fn: (tx: Db) => Promise<T>) => (await open()).asSystem(fn),
    statement: async (query) => (await open()).statement(query),
    close: async () => {},
  };
  return { db, end: async () => void (await pool?.end().catch(() => {})) };
}

/** A Database whose every transaction runs on a Pool of its own, closed when it is done (cron passes). */
function perCallDatabase(url: string): Database {
  const run = async <T>(use: (db: Database) => Promise<T>): Promise<T> => {
    const pool = new Pool({ connectionString: url, max: 1 });
    try {
      return await use(await fromNeonPool(pool));
    } finally {
      await pool.end();
    }
  };
  return {
    withTenant: <T>(tenantId: string, fn: (tx: Db) => Promise<T>) => run((db) => db.withTenant(tenantId, fn)),
    asSystem: <T>(fn: (tx: Db) => Promise<T>) => run((db) => db.asSystem(fn)),
    statement: (query) => run((db) => db.statement(query)),
    close: async () => {},
  };
}

// Each request's Database, found by its Request (the app sees the same object as c.req.raw).
const databases = new WeakMap<Request, Database>();

let app: ReturnType<typeof createApp> | undefined;
let appConfig: AppConfig | undefined;
let configError: string | undefined;

function appFor(env: Bindings) {
  if (app || configError) return app;
  try {
    const config = configFrom(env);
    appConfig = config;
    if (config.neonWsProxy) {
      // Local development only: a plain PostgreSQL behind a WebSocket→TCP proxy.
      const proxy = config.neonWsProxy;
      neonConfig.wsProxy = (host, port) => `${proxy}/v2?address=${host}:${port}`;
      neonConfig.useSecureWebSocket = false;
      neonConfig.pipelineTLS = false;
      // Neon's proxy asks WebSocket clients for a cleartext password (inside TLS), so the driver's
      // default "password" sends startup, password and first query in one flight. A plain
      // PostgreSQL asks for SCRAM instead, which that pipelining breaks: off unless the local
      // server asks for cleartext too (bench/workers' PgBouncer with auth_type = plain says so).
      const pipeline = env.NEON_PIPELINE_CONNECT?.trim();
      if (pipeline && pipeline !== "password") {
        throw new ConfigError(`NEON_PIPELINE_CONNECT: "password" or unset, not ${JSON.stringify(pipeline)}`);
      }
      neonConfig.pipelineConnect = pipeline === "password" ? "password" : false;
    }
    // `db` serves what runs outside a request; requests get their own (requestDatabase).
    // Work after the response (an audit report's diff) outlives the request's Pool: it runs on
    // Pools of its own, kept alive by waitUntil; the cron resumes what it did not finish.
    const background = perCallDatabase(config.databaseUrl!);
    const deferred: Deferred = {
      db: background,
      run: (c, work) => c.executionCtx.waitUntil(work.catch((err: unknown) => console.error("deferred work failed", err))),
      idle: async () => {},
    };
    app = createApp({ db: background, config, requestDatabase: (c) => databases.get(c.req.raw), deferred });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    configError = e.message;
  }
  return app;
}

export default {
  async fetch(request: Request, env: Bindings, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<Response> {
    const a = appFor(env);
    if (!a) {
      return new Response(JSON.stringify({ type: "about:blank", title: "Service Unavailable", status: 503, detail: configError }), {
        status: 503,
        headers: { "content-type": "application/problem+json" },
      });
    }
    const scope = requestDatabase(appConfig!.databaseUrl!);
    databases.set(request, scope.db);
    try {
      return await a.fetch(request, env, ctx as never);
    } finally {
      // Bodies are built in full before the response is returned: nothing reads after this.
      ctx.waitUntil(scope.end());
    }
  },
  // Cron Trigger (infra/wrangler.toml [triggers] crons): one webhook dispatcher pass — the
  // offline sweep, then every due delivery —, one rollout pass (due steps become revisions) and
  // one pass resuming audit reports whose update after the response was cut short.
  async scheduled(_event: unknown, env: Bindings, ctx: { waitUntil(p: Promise<unknown>): void }): Promise<void> {
    const config = configFrom(env);
    if (config.neonWsProxy) appFor(env);
    // Passes come once a minute: only a longer gap means the API was down (the offline sweep).
    const dispatcher = createDispatcher({
      db: perCallDatabase(config.databaseUrl!),
      config: config.webhooks!,
      pollIntervalSeconds: config.agent.pollIntervalSeconds,
      apiDownAfterMs: 150_000,
    });
    // A failed pass is retried by the next trigger; it must not fail silently meanwhile.
    ctx.waitUntil(dispatcher.runOnce().catch((err: unknown) => console.error("webhook dispatcher pass failed", err)));
    ctx.waitUntil(
      runRolloutPass({
        db: perCallDatabase(config.databaseUrl!),
        now: () => new Date(),
        pollIntervalSeconds: config.agent.pollIntervalSeconds,
        onError: (err, plan) => console.error(`rollout plan ${plan}: step failed`, err),
      }).catch((err: unknown) => console.error("rollout pass failed", err)),
    );
    ctx.waitUntil(
      resumeUnfinished(perCallDatabase(config.databaseUrl!), {
        config: config.ingest,
        linkBase: config.publicUrl ?? "",
        log: pino({ level: config.logLevel }),
      }).catch((err: unknown) => console.error("resuming audit reports failed", err)),
    );
  },
};
