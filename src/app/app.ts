// The HTTP application: plumbing (request id, logging, body limit, problem+json errors, OpenAPI,
// docs, health) plus every route module from src/routes/. No I/O at construction time.
import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { sql } from "drizzle-orm";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { pino, type Logger } from "pino";
import type { Database } from "../db/client.ts";
import { AGENT_API_PREFIX, AGENT_PATHS } from "../protocol/agent.ts";
import { AGENT_SECURITY } from "../routes/agent-common.ts";
import { routes as defaultRoutes, type RouteModule } from "../routes/index.ts";
import { authenticateAgent } from "./agent-auth.ts";
import { authenticate, createTokenVerifier, type TokenVerifier } from "./auth.ts";
import type { AppConfig } from "./config.ts";
import type { AppEnv } from "./env.ts";
import { errorToProblem, problem, validationHook } from "./problem.ts";
import { guardRequestBody } from "./text-guard.ts";

export interface AppDeps {
  db: Database;
  config: AppConfig;
  /** Clock for token validation and timestamps; tests pin it. */
  now?: () => Date;
  logger?: Logger;
  /** Defaults to every module in src/routes/index.ts; tests may add their own. */
  routes?: readonly RouteModule[];
  /** Defaults to one built from config.jwt. */
  verifier?: TokenVerifier;
}

export const API_VERSION = "0.1.0";

export function createApp(deps: AppDeps): OpenAPIHono<AppEnv> {
  const { db, config } = deps;
  const now = deps.now ?? (() => new Date());
  const logger = deps.logger ?? pino({ level: config.logLevel });
  const verifier = deps.verifier ?? createTokenVerifier(config.jwt);

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });

  app.use(requestId());
  app.use(async (c, next) => {
    const log = logger.child({ reqId: c.get("requestId") });
    c.set("db", db);
    c.set("config", config);
    c.set("now", now);
    c.set("log", log);
    const start = performance.now();
    await next();
    const p = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
    const agent = c.get("agent") as AppEnv["Variables"]["agent"] | undefined;
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

  app.onError((err, c) =>
    errorToProblem(err, c, (e) => (c.get("log") ?? logger).error({ err: e, method: c.req.method, path: c.req.path }, "unhandled error")),
  );
  app.notFound((c) => problem(c, 404, `No route for ${c.req.method} ${c.req.path}.`));

  app.get("/healthz", async (c) => {
    try {
      await db.asSystem((tx) => tx.execute(sql`select 1`));
      return c.json({ status: "ok" });
    } catch (e) {
      c.get("log").error({ err: e }, "health check failed");
      return problem(c, 503, "The database is not reachable.");
    }
  });

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
  app.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Gatehouse API",
      version: API_VERSION,
      description: "Multi-tenant control plane for Kubernetes pod security. Errors are RFC 9457 application/problem+json.",
    },
    security: [{ bearer: [] }],
  });
  app.get("/docs", Scalar({ url: "/openapi.json", pageTitle: "Gatehouse API" }));

  // Everything under /v1 is authenticated; routes add requireRole(...) for authorisation.
  app.use("/v1/*", authenticate(verifier));
  // The agent protocol: agent credentials only, each confined to its own environment.
  app.use(`${AGENT_API_PREFIX}/*`, authenticateAgent());
  // After authentication: nobody's body is parsed before the credential is checked.
  app.use(guardRequestBody);
  for (const m of deps.routes ?? defaultRoutes) m.register(app);
  return app;
}
