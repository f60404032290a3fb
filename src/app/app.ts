// The HTTP application: plumbing (request id, logging, body limit, problem+json errors, OpenAPI,
// docs, health) on the root app, and two sub-apps with their own auth and context type: /v1
// (V1Env: a principal exists) and /agent/v1 (AgentEnv: an agent exists), each holding its route
// modules from src/routes/. No I/O at construction time.
import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { sql } from "drizzle-orm";
import type { Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { pino, type Logger } from "pino";
import { registerConsole } from "../console/routes.ts";
import type { ConsoleAssets } from "../console/serve.ts";
import type { Database } from "../db/client.ts";
import { AGENT_API_PREFIX, AGENT_PATHS } from "../protocol/agent.ts";
import { AGENT_SECURITY } from "../routes/agent-common.ts";
import { agentRoutes as defaultAgentRoutes, routes as defaultRoutes, type RouteModule } from "../routes/index.ts";
import { authenticateAgent } from "./agent-auth.ts";
import { authenticate, createTokenVerifier, type TokenVerifier } from "./auth.ts";
import type { AppConfig } from "./config.ts";
import { type Deferred, inProcessDeferred } from "./deferred.ts";
import type { AgentEnv, AppEnv, V1Env } from "./env.ts";
import type { ApiMetrics } from "./metrics.ts";
import { errorToProblem, problem, validationHook } from "./problem.ts";
import { rateLimit } from "./rate-limit.ts";
import { guardRequestBody } from "./text-guard.ts";

export interface AppDeps {
  db: Database;
  config: AppConfig;
  /** Clock for token validation and timestamps; tests pin it. */
  now?: () => Date;
  logger?: Logger;
  /** The /v1 modules; defaults to `routes` of src/routes/index.ts; tests may add their own. */
  routes?: readonly RouteModule<V1Env>[];
  /** The /agent/v1 modules; defaults to `agentRoutes` of src/routes/index.ts. */
  agentRoutes?: readonly RouteModule<AgentEnv>[];
  /** Defaults to one built from config.jwt. */
  verifier?: TokenVerifier;
  /** Prometheus metrics (Node: src/app/metrics.ts); absent, there is no /metrics. */
  metrics?: ApiMetrics;
  /** False once the process is draining (SIGTERM): /readyz answers 503 so no new traffic comes. */
  accepting?: () => boolean;
  /** The console's static files (Node: src/console/serve.ts); Workers serve them as assets. */
  consoleAssets?: ConsoleAssets;
  /**
   * The database of one request, where it cannot be shared between requests (Workers: one Pool
   * per request, src/worker.ts); absent, every request uses `db`.
   */
  requestDatabase?: (c: Context<AppEnv>) => Database | undefined;
  /** Work after the response (deferred.ts); defaults to running it in this process on `db`. */
  deferred?: Deferred;
}

export const API_VERSION = "0.1.0";

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? pino({ level: config.logLevel });
  const verifier = deps.verifier ?? createTokenVerifier(config.jwt);
  const deferred = deps.deferred ?? inProcessDeferred(db);

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  if (deps.metrics) app.use(deps.metrics.middleware);
  app.use(requestId());
  app.use(async (c, next) => {
    const log = logger.child({ reqId: c.get("requestId") });
    c.set("db", deps.requestDatabase?.(c) ?? db);
    c.set("config", config);
    c.set("deferred", deferred);
    c.set("now", now);
    c.set("log", log);
    const start = performance.now();
    await next();
    const p = c.get("principal");
    const agent = c.get("agent");
    log.info(
      {
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(performance.now() - start),
        tenant: p?.tenantSlug ?? agent?.tenantId,
        subject: p?.subject ?? (agent && `agent:${agent.prefix}`),
      },
      "request",
    );
  });
  // Audit reports list every violation Gatekeeper kept (megabytes); every other body is small.
  const limit = (maxSize: number) => bodyLimit({ maxSize, onError: (c) => problem(c, 413, `The request body exceeds the limit of ${maxSize} bytes.`) });
  const defaultLimit = limit(config.bodyLimitBytes);
  const auditReportLimit = limit(config.agent.bodyLimitBytes);
  // GET and HEAD carry no body (node-server gives them none); skipping them also keeps node-server
  // from building a full fetch Request just so bodyLimit can read `.body` (a third of a 304's cost).
  app.use((c, next) =>
    c.req.method === "GET" || c.req.method === "HEAD" ? next() : (c.req.path === AGENT_PATHS.auditReport ? auditReportLimit : defaultLimit)(c, next),
  );

  app.onError((err, c) => errorToProblem(err, c, (e) => (c.get("log") ?? logger).error({ err: e, method: c.req.method, path: c.req.path }, "unhandled error")));
  app.notFound((c) => problem(c, 404, `No route for ${c.req.method} ${c.req.path}.`));

  const databaseCheck = async (c: Context<AppEnv>) => {
    try {
      await c.get("db").asSystem((tx) => tx.execute(sql`select 1`));
      return undefined;
    } catch (e) {
      c.get("log").error({ err: e }, "health check failed");
      return problem(c, 503, "The database is not reachable.");
    }
  };
  app.get("/healthz", async (c) => (await databaseCheck(c)) ?? c.json({ status: "ok" }));
  // Readiness: the database answers and the process is not draining (a load balancer stops
  // sending before in-flight requests finish).
  app.get("/readyz", async (c) => {
    if (deps.accepting && !deps.accepting()) return problem(c, 503, "The server is shutting down.");
    return (await databaseCheck(c)) ?? c.json({ status: "ready" });
  });
  if (deps.metrics) {
    const metrics = deps.metrics;
    const token = config.metricsToken;
    app.get("/metrics", async (c) => {
      if (token && c.req.header("authorization") !== `Bearer ${token}`) return problem(c, 401, "GET /metrics needs `Authorization: Bearer <METRICS_TOKEN>`.");
      const { contentType, body } = await metrics.render();
      return c.body(body, 200, { "content-type": contentType });
    });
  }

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A JWT from the identity provider (claims: sub, tenant, role), or an API key `ghk_<prefix>_<secret>`.",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", AGENT_SECURITY, {
    type: "http",
    scheme: "bearer",
    description: "An agent credential `gha_<prefix>_<secret>`, bound to one environment. The only credential /agent/v1 accepts.",
  });
  // Built once, on the first request (every route is registered by then): generating it costs
  // tens of ms of CPU, which on Workers is billed per request.
  let openapi: string | undefined;
  app.get("/openapi.json", (c) => {
    openapi ??= JSON.stringify(
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info: {
          title: "Gatehouse API",
          version: API_VERSION,
          description: "Multi-tenant control plane for Kubernetes pod security. Errors are RFC 9457 application/problem+json.",
        },
        security: [{ bearer: [] }],
      }),
    );
    return c.body(openapi, 200, { "content-type": "application/json" });
  });
  // Scalar's browser bundle from the installed package, not its CDN: /docs works offline.
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Gatehouse API", cdn: "/console/vendor/scalar.js", withDefaultFonts: false }));

  // Everything under /v1 is authenticated; routes add requireRole(...) for authorisation. Routes
  // keep their full paths (/v1/..., AGENT_PATHS), so each sub-app is mounted at the root and its
  // middleware names its prefix: the order per request is as on one app (auth, rate limit, body
  // guard, route), and an unknown path under a prefix is still 401 before it is 404.
  const v1 = new OpenAPIHono<V1Env>({ defaultHook: validationHook });
  v1.use("/v1/*", authenticate(verifier));
  // The agent protocol: agent credentials only, each confined to its own environment.
  const agent = new OpenAPIHono<AgentEnv>({ defaultHook: validationHook });
  agent.use(`${AGENT_API_PREFIX}/*`, authenticateAgent(db));
  // After authentication, so each credential has its own bucket and a forged one costs nothing.
  if (config.rateLimits) {
    const limited = deps.metrics?.rateLimited;
    v1.use(
      "/v1/*",
      rateLimit<V1Env>(
        config.rateLimits.api,
        (c) => {
          const p = c.get("principal");
          return { key: `${p.tenantId}:${p.subject}`, tenantId: p.tenantId };
        },
        limited,
      ),
    );
    agent.use(
      `${AGENT_API_PREFIX}/*`,
      rateLimit<AgentEnv>(
        config.rateLimits.agent,
        (c) => {
          const a = c.get("agent");
          return { key: `agent:${a.credentialId}`, tenantId: a.tenantId };
        },
        limited,
      ),
    );
  }
  // After authentication: nobody's body is parsed before the credential is checked.
  v1.use("/v1/*", guardRequestBody);
  agent.use(`${AGENT_API_PREFIX}/*`, guardRequestBody);
  for (const m of deps.routes ?? defaultRoutes) m.register(v1);
  for (const m of deps.agentRoutes ?? defaultAgentRoutes) m.register(agent);
  // Mounting copies the routes and their OpenAPI definitions: every module is registered by now.
  app.route("/", v1);
  app.route("/", agent);
  // Everything else (the console's routes below, unknown paths) is guarded too.
  app.use(guardRequestBody);
  // The web console at / (src/console/): static files calling only /v1, plus its sign-in helpers.
  registerConsole(app, config, deps.consoleAssets);
  return app;
}
