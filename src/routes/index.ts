// Every route module of the API. A module exports `register(app)` and declares its routes with
// createRoute (see tenant.ts, the model); add it to its list and createApp mounts it: `routes` on
// the /v1 sub-app (a principal exists), `agentRoutes` on the /agent/v1 one (an agent exists). The
// lists are typed by their sub-app's env, so an agent module in the /v1 list does not compile.
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AgentEnv, V1Env } from "../app/env.ts";
import * as tenant from "./tenant.ts";
import * as auditLog from "./audit-log.ts";
import * as apiKeys from "./api-keys.ts";
import * as agentCredentials from "./agent-credentials.ts";
import * as agentManifest from "./agent-manifest.ts";
import * as revisions from "./revisions.ts";
import * as presets from "./presets.ts";
import * as rendered from "./rendered.ts";
import * as environments from "./environments.ts";
import * as settings from "./settings.ts";
import * as environmentAgent from "./environment-agent.ts";
import * as environmentAuditReport from "./environment-audit-report.ts";
import * as agentDesiredState from "./agent-desired-state.ts";
import * as agentStatus from "./agent-status.ts";
import * as agentAuditReport from "./agent-audit-report.ts";
import * as violations from "./violations.ts";
import * as webhooks from "./webhooks.ts";
import * as denials from "./denials.ts";
import * as agentAdmissionEvents from "./agent-admission-events.ts";
import * as drafts from "./drafts.ts";
import * as draftsPreview from "./drafts-preview.ts";
import * as rollouts from "./rollouts.ts";

export interface RouteModule<E extends V1Env | AgentEnv = V1Env> {
  // A property, not a method: parameters of methods are bivariant, and this one must not be.
  register: (app: OpenAPIHono<E>) => void;
}

/** The /v1 API (user JWTs and API keys). */
export const routes: readonly RouteModule<V1Env>[] = [
  tenant,
  auditLog,
  apiKeys,
  agentCredentials,
  agentManifest,
  revisions,
  presets,
  rendered,
  environments,
  settings,
  environmentAgent,
  environmentAuditReport,
  violations,
  webhooks,
  denials,
  drafts,
  draftsPreview,
  rollouts,
];

/** The agent protocol (/agent/v1, agent credentials only). */
export const agentRoutes: readonly RouteModule<AgentEnv>[] = [agentDesiredState, agentStatus, agentAuditReport, agentAdmissionEvents];
