// Shared by the agent protocol routes (agent-*.ts) and the user routes that show what agents
// reported (environment-agent.ts, environments.ts): the OpenAPI security of /agent/v1, and how
// an environment's agent state is derived. Not a route module: it registers nothing.
import { z } from "@hono/zod-openapi";
import type { AgentPrincipal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { gatekeeperProblems, OFFLINE_AFTER_INTERVALS, type AgentStatusReport } from "../protocol/agent.ts";
import { findEnvironment, type EnvironmentRef } from "../services/environments.ts";

/** The OpenAPI security scheme of the /agent/v1 routes (registered in createApp). */
export const AGENT_SECURITY = "agentCredential";
export const agentSecurity = [{ [AGENT_SECURITY]: [] }];
export const agentTags = ["Agent protocol"];

// The contract (src/protocol/agent.ts) is plain zod. A plain schema has .openapi() only when
// @hono/zod-openapi was loaded before it was built (module order), so routes name a copy of the
// contract's shape built with the extended z instead: same fields, same strictness.

const AGENT_STATES = ["never_connected", "online", "degraded", "offline"] as const;
export type AgentState = (typeof AGENT_STATES)[number];
export const AgentStateSchema = z.enum(AGENT_STATES).openapi("AgentState", {
  description: `never_connected: no status report yet; offline: none for more than ${OFFLINE_AFTER_INTERVALS} poll intervals; degraded: reporting, but Gatekeeper is not doing its job (degradedReasons says why); online: reporting and Gatekeeper healthy as far as the agent can tell.`,
});

/** Offline once the agent has missed OFFLINE_AFTER_INTERVALS polls; a clock set back counts as online. */
export function agentState(lastSeenAt: Date | null, now: Date, pollIntervalSeconds: number): AgentState {
  if (!lastSeenAt) return "never_connected";
  return now.getTime() - lastSeenAt.getTime() > OFFLINE_AFTER_INTERVALS * pollIntervalSeconds * 1000 ? "offline" : "online";
}

/** The compact agent view embedded in every environment. */
export const AgentSummary = z
  .object({
    state: AgentStateSchema,
    lastSeenAt: z.iso.datetime().nullable(),
    appliedRevision: z.int().nullable().openapi({ description: "The revision whose objects the agent last applied completely." }),
    inSync: z.boolean().openapi({ description: "appliedRevision is the environment's current revision." }),
    degradedReasons: z
      .array(z.string())
      .openapi({ description: "Why the state is degraded (Gatekeeper's webhook not ready, its audit stale); empty otherwise." }),
    gatekeeper: z
      .object({ installed: z.boolean(), version: z.string().nullable() })
      .nullable()
      .openapi({ description: "Gatekeeper's installation as the agent last reported it (the fleet's versions at a glance); null before the first report." }),
  })
  .openapi("EnvironmentAgentSummary");
export type AgentSummary = z.infer<typeof AgentSummary>;

export function agentSummary(
  status: { lastSeenAt: Date | null; appliedRevision: number | null; gatekeeper?: AgentStatusReport["gatekeeper"] | null } | null,
  currentRevision: number,
  now: Date,
  pollIntervalSeconds: number,
): AgentSummary {
  const lastSeenAt = status?.lastSeenAt ?? null;
  const appliedRevision = status?.appliedRevision ?? null;
  const state = agentState(lastSeenAt, now, pollIntervalSeconds);
  // What a silent agent last said about Gatekeeper is not news: offline says it all.
  const degradedReasons = state === "online" && status?.gatekeeper ? gatekeeperProblems(status.gatekeeper) : [];
  return {
    state: degradedReasons.length ? "degraded" : state,
    lastSeenAt: lastSeenAt?.toISOString() ?? null,
    appliedRevision,
    inSync: appliedRevision !== null && appliedRevision === currentRevision,
    degradedReasons,
    gatekeeper: status?.gatekeeper ? { installed: status.gatekeeper.installed, version: status.gatekeeper.version } : null,
  };
}

/** The agent's audit actor. */
export const agentActor = (prefix: string) => `agent:${prefix}`;

/** The credential's environment was deleted while the request ran (credentials cascade with it). */
export const environmentGone = () => new ProblemError(404, "The environment of this agent credential no longer exists.");

/** The calling credential's environment, or environmentGone when it was deleted meanwhile. */
export async function requireAgentEnvironment(tx: Db, a: Pick<AgentPrincipal, "tenantId" | "environmentId">): Promise<EnvironmentRef> {
  const env = await findEnvironment(tx, a.tenantId, a.environmentId);
  if (!env) throw environmentGone();
  return env;
}
