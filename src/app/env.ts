// Types shared by the app and every route module: what a handler finds with c.get(). Read them
// with c.get("x"), not c.var.x: hono builds a fresh object of every variable on each c.var access,
// a measurable share of a 304 poll.
import type { Logger } from "pino";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import type { AgentState } from "../services/agent-state.ts";
import type { AppConfig } from "./config.ts";
import type { Deferred } from "./deferred.ts";

import type { Role } from "../db/schema-tenancy.ts";

export { ROLES, type Role } from "../db/schema-tenancy.ts";

/** A tenant's slug (the JWT `tenant` claim): a lowercase DNS label. */
export const TenantSlug = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, "must be a lowercase DNS label");

/** Who is calling, resolved by the auth middleware for every /v1 request. */
export interface Principal {
  kind: "user" | "apiKey";
  /** JWT `sub`, or `apikey:<prefix>` for API keys; this is the audit actor. */
  subject: string;
  tenantId: string;
  tenantSlug: string;
  role: Role;
}

/** The agent calling /agent/v1/*: one credential, bound to exactly one environment. */
export interface AgentPrincipal {
  tenantId: string;
  environmentId: string;
  credentialId: string;
  /** The credential's public prefix; `agent:<prefix>` is the audit actor. */
  prefix: string;
  /** What the credential was resolved from: its environment's desired-state inputs, as of this request. */
  state: AgentState;
}

/** What every request has, whichever app answers it (set by createApp's first middleware). */
export interface BaseVariables {
  config: AppConfig;
  db: Database;
  /** Work after the response (deferred.ts). */
  deferred: Deferred;
  /** The app's clock; use it instead of new Date() so tests can pin time. */
  now: () => Date;
  requestId: string;
  log: Logger;
}

/** The /v1 sub-app: its auth middleware (auth.ts) has resolved a principal before any route runs. */
export interface V1Env {
  Variables: BaseVariables & { principal: Principal };
}

/** The /agent/v1 sub-app: its auth middleware (agent-auth.ts) has resolved an agent before any route runs. */
export interface AgentEnv {
  Variables: BaseVariables & { agent: AgentPrincipal };
}

/**
 * The root app (plumbing, health, docs, console): a request may have reached either sub-app, or
 * neither, so its own middleware (the request log, rate limits) finds a principal or agent only maybe.
 */
export interface AppEnv {
  Variables: BaseVariables & { principal?: Principal; agent?: AgentPrincipal };
}

/** The env of handlers that need only what every request has (helpers shared by both sub-apps). */
export interface BaseEnv {
  Variables: BaseVariables;
}
