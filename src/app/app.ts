// The HTTP application: plumbing (request id, logging, body limit, problem+json errors, OpenAPI,
// docs, health) plus every route module from src/routes/. No I/O at construction time.
import { OpenAPIHono } from "@hono/zod-openapi";
import { Scalar } from "@scalar/hono-api-reference";
import { sql } from "drizzle-orm";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import { pino, type Logger } from "pino";
import type { Database } from "../db/client.ts";
import { routes as defaultRoutes, type RouteModule } from "../routes/index.ts";
import { authenticate, createTokenVerifier, type TokenVerifier } from "./auth.ts";
import type { AppConfig } from "./config.ts";
import type { AppEnv } from "./env.ts";
import { errorToProblem, problem, validationHook } from "./problem.ts";

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
    const log = logger.child({ reqId: c.var.requestId });
    c.set("db", db);
    c.set("now", now);
    c.set("log", log);
    const start = performance.now();
    await next();
    const p = c.get("principal") as AppEnv["Variables"]["principal"] | undefined;
    log.info(
      { method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - start), tenant: p?.tenantSlug, subject: p?.subject },
      "request",
    );
  });
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: (c) => problem(c, 413, `The request body exceeds the limit of ${config.bodyLimitBytes} bytes.`),
    }),
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
      c.var.log.error({ err: e }, "health check failed");
      return problem(c, 503, "The database is not reachable.");
    }
  });

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A JWT from the identity provider (claims: sub, tenant, role), or an API key `ghk_<prefix>_<secret>`.",
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
  for (const m of deps.routes ?? defaultRoutes) m.register(app);
  return app;
}
