// POST /agent/v1/status: the agent's report after every loop, and its heartbeat. One row per
// environment, overwritten. Heartbeats are machine traffic and not audited; what an operator
// must be able to trace — the applied revision or Gatekeeper's installation changing — is
// (services/agent-status.ts writes it).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AgentEnv } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { AGENT_PATHS, AgentStatusReport } from "../protocol/agent.ts";
import { checkStatus, recordAgentStatus } from "../services/agent-status.ts";
import { agentSecurity, agentTags } from "./agent-common.ts";

export const route = createRoute({
  method: "post",
  path: AGENT_PATHS.status,
  tags: agentTags,
  security: agentSecurity,
  summary: "Report the agent's status (heartbeat)",
  description:
    "Replaces the last status of the calling credential's environment and marks the agent seen now; a report identical to the last one but for lastSuccessfulSyncAt, less than one poll interval after it, writes nothing (lastSeenAt and lastSyncAt are touched at most once per interval). Unknown fields are refused. A change of the applied revision or of Gatekeeper's installation (installed, version) is recorded in the audit log as agent.status_changed (actor agent:<prefix>); heartbeats themselves are not. Gatekeeper's health (gatekeeper.webhook, gatekeeper.audit) turning bad queues the webhook event environment.degraded, turning good again environment.recovered. Agent credentials only.",
  // No parameters: the credential alone names the environment.
  request: {
    query: z.strictObject({}),
    body: { required: true, content: { "application/json": { schema: z.strictObject(AgentStatusReport.shape).openapi("AgentStatusReport") } } },
  },
  responses: { 204: { description: "Recorded" }, ...problemResponses(400, 401, 404, 413, 415) },
});

export function register(app: OpenAPIHono<AgentEnv>): void {
  app.openapi(route, async (c) => {
    const a = c.get("agent");
    const report = c.req.valid("json");
    const now = c.get("now")();
    const db = c.get("db");
    // "none" and "heartbeat" are done by the check itself (one statement).
    const need = await checkStatus(db, a, report, { now, pollIntervalSeconds: c.get("config").agent.pollIntervalSeconds });
    if (need === "report") await db.withTenant(a.tenantId, (tx) => recordAgentStatus(tx, a, report, now));
    return c.body(null, 204);
  });
}
