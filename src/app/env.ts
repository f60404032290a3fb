// Types shared by the app and every route module: what a handler finds in c.var.
import type { Logger } from "pino";
import { z } from "zod";
import type { Database } from "../db/client.ts";

export const ROLES = ["viewer", "editor", "admin"] as const;
export type Role = (typeof ROLES)[number];

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

export interface AppEnv {
  Variables: {
    /** Set on /v1/* only (the auth middleware runs there). */
    principal: Principal;
    db: Database;
    /** The app's clock; use it instead of new Date() so tests can pin time. */
    now: () => Date;
    requestId: string;
    log: Logger;
  };
}
