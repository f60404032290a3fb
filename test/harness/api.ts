// The API under test: a real app on a real database (PGlite or PostgreSQL), requests through
// app.request (no sockets), tokens signed with the in-memory test key.
//
// Typed bodies come from the one source of truth, the route definitions: `api.call(route, path,
// opts)` takes a createRoute config exported by its module in src/routes/ (every module is
// re-exported by name from test/harness/routes.ts), checks `path` against the route's path
// pattern (at compile time as a template literal type, at run time against the pattern too) and
// answers a Response whose `json(res)` is typed as the route's JSON response bodies (z.output of
// every `application/json` response schema; problems are read with expectProblem). No code
// generation: openapi-typescript wants TypeScript 5, and hono's `hc` would need every module to
// return its chain of .openapi() types. Request bodies stay `unknown`: error tests send wrong ones
// on purpose. `api.request` is the untyped twin, for paths no route owns and raw requests; its
// `json(res)` is `unknown` unless the test names a type.
import type { RouteConfig } from "@hono/zod-openapi";
import { expect } from "vitest";
import type { z } from "zod";
import { createApp, type AppDeps } from "../../src/app/app.ts";
import { ensureTenant } from "../../src/app/auth.ts";
import { DEFAULT_DRAFT_CONFIG, DEFAULT_WEBHOOK_CONFIG, type AppConfig, type JwtConfig } from "../../src/app/config.ts";
import { generateCredential } from "../../src/app/credentials.ts";
import { type Deferred, inProcessDeferred } from "../../src/app/deferred.ts";
import type { Role } from "../../src/app/env.ts";
import { PROBLEM_CONTENT_TYPE, type Problem } from "../../src/app/problem.ts";
import type { Database } from "../../src/db/client.ts";
import { apiKeys } from "../../src/db/schema.ts";
import { DEFAULT_POLL_INTERVAL_SECONDS } from "../../src/protocol/agent.ts";
import { backend as namedBackend } from "./backends.ts";
import { signToken, testJwtConfig, type SignOptions } from "./tokens.ts";

/**
 * Where the database comes from: a TestBackend from backends() (close() then runs its cleanup,
 * which drops every database that backend opened), or a function returning a Database.
 */
export type BackendLike = { open(): Promise<Database>; cleanup?(): Promise<void> } | (() => Promise<Database>);

export interface TestApiOptions {
  jwt?: Partial<JwtConfig>;
  bodyLimitBytes?: number;
  /** The agent protocol's settings (defaults: poll every 30 s, audit reports up to 16 MiB). */
  agent?: Partial<AppConfig["agent"]>;
  /** Webhook URL policy etc. (default: the production one, https to public addresses only). */
  webhooks?: Partial<NonNullable<AppConfig["webhooks"]>>;
  /** Draft expiry and cap (default: 7 days, 10 per environment). */
  drafts?: Partial<NonNullable<AppConfig["drafts"]>>;
  /** Whether a token may create its tenant (default "auto", as in development). */
  tenantProvisioning?: AppConfig["tenantProvisioning"];
  now?: () => Date;
  routes?: AppDeps["routes"];
  /** Defaults to a silent logger. */
  logger?: AppDeps["logger"];
  /** Prometheus metrics for the app (e.g. createMetrics), built on its database. */
  metrics?: (db: Database) => NonNullable<AppDeps["metrics"]>;
  accepting?: AppDeps["accepting"];
  /** Adjust the config before the app is built (e.g. a setting with no option of its own). */
  configure?: (config: AppConfig) => void;
}

export interface RequestOptions {
  token?: string;
  /** Objects are sent as JSON; strings are sent as they are (with a JSON content type unless headers say otherwise). */
  body?: unknown;
  headers?: Record<string, string>;
}

declare const BODY: unique symbol;
/** A Response that knows the type of its JSON body (from api.call); `json(res)` reads it as that. */
export type TypedResponse<T> = Response & { readonly [BODY]?: T };

/** A route's path as the caller writes it: "/v1/environments/{id}" is `/v1/environments/${string}`. */
export type PathOf<P extends string> = P extends `${infer Head}{${string}}${infer Tail}` ? `${Head}${string}${PathOf<Tail>}` : P;

/** The JSON bodies a route documents, as its handler writes them (problems are application/problem+json). */
export type ResponseBodyOf<R extends RouteConfig> = {
  [S in keyof R["responses"]]: R["responses"][S] extends { content: { "application/json": { schema: infer Z extends z.ZodType } } } ? z.output<Z> : never;
}[keyof R["responses"]];

export interface TestApi {
  app: ReturnType<typeof createApp>;
  db: Database;
  config: AppConfig;
  /** The app's work after the response: `await api.deferred.idle()` waits for it (audit reports sent with Prefer: respond-async). */
  deferred: Deferred;
  /** A valid user JWT. `sub` defaults to `<role>@<tenant>`. */
  token(tenant: string, role: Role, overrides?: { sub?: string; claims?: Record<string, unknown>; sign?: SignOptions }): Promise<string>;
  /** Creates an API key row directly (the tenant is provisioned if new) and returns its ghk_ token. */
  apiKey(tenant: string, role: Role, opts?: { name?: string; revoked?: boolean }): Promise<string>;
  /** The tenant's id, provisioning it like a first sign-in would. */
  tenantId(slug: string): Promise<string>;
  request(method: string, path: string, opts?: RequestOptions): Promise<Response>;
  /** `route`'s method on `path` (which must match the route's pattern), its JSON body typed by the route. */
  call<R extends RouteConfig>(
    route: R,
    path: PathOf<R["path"]> | `${PathOf<R["path"]>}?${string}`,
    opts?: RequestOptions,
  ): Promise<TypedResponse<ResponseBodyOf<R>>>;
  close(): Promise<void>;
}

/** No backend → PGlite (fine for plumbing tests; route suites run on each of backends()). */
export async function createTestApi(from?: BackendLike, opts: TestApiOptions = {}): Promise<TestApi> {
  const backend = from ?? namedBackend("pglite");
  const db = typeof backend === "function" ? await backend() : await backend.open();
  const config: AppConfig = {
    port: 0,
    dataDir: "memory://",
    jwt: testJwtConfig(opts.jwt),
    tenantProvisioning: opts.tenantProvisioning ?? "auto",
    bodyLimitBytes: opts.bodyLimitBytes ?? 64 * 1024,
    agent: { pollIntervalSeconds: DEFAULT_POLL_INTERVAL_SECONDS, bodyLimitBytes: 16 * 1024 * 1024, ...opts.agent },
    webhooks: { ...DEFAULT_WEBHOOK_CONFIG, ...opts.webhooks },
    drafts: { ...DEFAULT_DRAFT_CONFIG, ...opts.drafts },
    logLevel: "silent",
  };
  opts.configure?.(config);
  const deferred = inProcessDeferred(db);
  const app = createApp({
    db,
    config,
    deferred,
    now: opts.now,
    routes: opts.routes,
    logger: opts.logger,
    metrics: opts.metrics?.(db),
    accepting: opts.accepting,
  });
  const request: TestApi["request"] = (method, path, o = {}) => {
    const headers: Record<string, string> = {};
    let body: string | undefined;
    if (o.body !== undefined) {
      headers["content-type"] = "application/json";
      body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
    }
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    return Promise.resolve(app.request(path, { method, headers: { ...headers, ...o.headers }, body }));
  };
  return {
    app,
    db,
    config,
    deferred,
    token: (tenant, role, o = {}) => signToken({ sub: o.sub ?? `${role}@${tenant}`, tenant, role, ...o.claims }, o.sign),
    async apiKey(tenant, role, o = {}) {
      const tenantId = await ensureTenant(db, tenant);
      const cred = generateCredential("ghk");
      await db.withTenant(tenantId, (tx) =>
        tx.insert(apiKeys).values({
          tenantId,
          name: o.name ?? `${role} key`,
          role,
          prefix: cred.prefix,
          secretHash: cred.secretHash,
          createdBy: "test-harness",
          revokedAt: o.revoked ? new Date() : null,
        }),
      );
      return cred.token;
    },
    tenantId: (slug) => ensureTenant(db, slug),
    request,
    call(route, path, o) {
      const pattern = new RegExp(`^${route.path.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      const pathname = path.split("?")[0]!;
      if (!pattern.test(pathname)) throw new Error(`${path} is not a path of ${route.method.toUpperCase()} ${route.path}`);
      return request(route.method.toUpperCase(), path, o);
    },
    async close() {
      await deferred.idle();
      await db.close();
      if (typeof backend !== "function") await backend.cleanup?.();
    },
  };
}

/** The parsed JSON body (any content type): typed from api.call's route, else as the caller names it, else unknown. */
export async function json<T>(res: TypedResponse<T>): Promise<T> {
  return (await res.json()) as T;
}

/** Asserts an RFC 9457 problem with this status and returns its body. */
export async function expectProblem(res: Response, status: number): Promise<Problem> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text) as Problem;
  expect(body).toMatchObject({ status, type: expect.stringMatching(/^urn:gatehouse:problem:/), title: expect.any(String), detail: expect.any(String) });
  expect(text).not.toMatch(/\bat .+\.ts:\d+|node_modules|stack/i);
  return body;
}
