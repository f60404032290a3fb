// Types shared by the app and every route module: what a handler finds with c.get(). Read them
// with c.get("x"), not c.var.x: hono builds a fresh object of every variable on each c.var access,
// a measurable share of a 304 poll.
import type { Logger } from "pino";
import { z } from "zod";
import type { Database } from "../db/client.ts";
import type { AgentState } from "../services/agent-state.ts";
import type { AppConfig } from "./config.ts";

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

export interface AppEnv {
  Variables: {
    /** Set on /v1/* only (the auth middleware runs there). */
    principal: Principal;
    /** Set on /agent/v1/* only (agent-auth.ts). */
    agent: AgentPrincipal;
    config: AppConfig;
    db: Database;
    /** The app's clock; use it instead of new Date() so tests can pin time. */
    now: () => Date;
    requestId: string;
    log: Logger;
  };
}
