// POST /agent/v1/status: the agent's report after every loop, and its heartbeat. One row per
// environment, overwritten. Heartbeats are machine traffic and not audited; what an operator
// must be able to trace — the applied revision or Gatekeeper's installation changing — is.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import canonicalize from "canonicalize";
import { and, eq, sql } from "drizzle-orm";
import type { Context } from "hono";
import type { AgentEnv } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import { agentStatus, environments } from "../db/schema.ts";
import { AGENT_PATHS, AgentStatusReport, gatekeeperProblems, OFFLINE_AFTER_INTERVALS } from "../protocol/agent.ts";
import { audit } from "../services/audit.ts";
import { agentReported } from "../services/webhook-liveness.ts";
import { enqueueEvent } from "../services/webhook-outbox.ts";
import { agentActor, agentSecurity, agentTags, environmentGone } from "./agent-common.ts";

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

type Traced = { appliedRevision: number | null; gatekeeper: { installed: boolean; version: string | null } };
const traced = (r: Traced): Traced => ({
  appliedRevision: r.appliedRevision,
  gatekeeper: { installed: r.gatekeeper.installed, version: r.gatekeeper.version },
});
const sameTraced = (a: Traced, b: Traced) =>
  a.appliedRevision === b.appliedRevision && a.gatekeeper.installed === b.gatekeeper.installed && a.gatekeeper.version === b.gatekeeper.version;

type Last = { revision: number; report: AgentStatusReport | null; lastSeenAt: string | null };

/**
 * What a report needs written, from one read. A report that repeats the stored one (but for its
 * sync time) less than one poll interval after the last write needs nothing ("none"): an agent
 * reporting every interval is touched at most once per interval, and its lastSeenAt stays well
 * inside the OFFLINE_AFTER_INTERVALS the offline state waits for. The same report later, while
 * the agent cannot have been declared offline yet, needs only its times moved ("heartbeat", one
 * statement). Anything else takes the transaction below ("report").
 */
async function needed(c: Context<AgentEnv>, report: AgentStatusReport, now: Date): Promise<"none" | "heartbeat" | "report"> {
  const a = c.get("agent");
  const [row] = await c.get("db").statement<{ last: Last | null }>(sql`select gatehouse_agent_status(${a.tenantId}, ${a.environmentId}) as last`);
  const last = row?.last;
  if (!last?.report || !last.lastSeenAt) return "report";
  const age = now.getTime() - Date.parse(last.lastSeenAt);
  const interval = c.get("config").agent.pollIntervalSeconds * 1000;
  if (!(age >= 0 && age < OFFLINE_AFTER_INTERVALS * interval) || !sameReport(last.report, report)) return "report";
  return age < interval ? "none" : "heartbeat";
}

function sameReport(previous: AgentStatusReport, report: AgentStatusReport): boolean {
  // The revisions were checked when the stored report came, and revisions only grow. The time of
  // the last successful sync moves on every loop, like lastSeenAt: it is heartbeat, not news
  // (whether there has been one at all is).
  const comparable = (r: AgentStatusReport) => canonicalize({ ...r, lastSuccessfulSyncAt: r.lastSuccessfulSyncAt !== null });
  return comparable(previous) === comparable(report);
}

export function register(app: OpenAPIHono<AgentEnv>): void {
  app.openapi(route, async (c) => {
    const a = c.get("agent");
    const report = c.req.valid("json");
    const now = c.get("now")();
    const need = await needed(c, report, now);
    if (need === "none") return c.body(null, 204);
    if (need === "heartbeat") {
      const sync = report.lastSuccessfulSyncAt;
      await c
        .get("db")
        .statement(
          sql`select gatehouse_agent_heartbeat(${a.tenantId}, ${a.environmentId}, ${a.credentialId}, ${now.toISOString()}::timestamptz, ${sync}::timestamptz)`,
        );
      return c.body(null, 204);
    }
    await c.get("db").withTenant(a.tenantId, async (tx) => {
      // Locking the environment row serialises this environment's reports, so of two racing
      // reports each compares against the other's result; settings writes wait a moment at most.
      const [env] = await tx
        .select({
          currentRevision: environments.currentRevision,
          name: environments.name,
          previous: agentStatus.report,
          previousSeenAt: agentStatus.lastSeenAt,
        })
        .from(environments)
        .leftJoin(agentStatus, and(eq(agentStatus.environmentId, environments.id), eq(agentStatus.tenantId, environments.tenantId)))
        .where(and(eq(environments.id, a.environmentId), eq(environments.tenantId, a.tenantId)))
        .for("no key update", { of: environments });
      if (!env) throw environmentGone();
      // Revisions only grow, so an agent cannot have fetched or applied one that does not exist yet.
      const errors = (["appliedRevision", "desiredRevision"] as const)
        .filter((k) => (report[k] ?? 0) > env.currentRevision)
        .map((path) => ({ path, message: `must not exceed the environment's current revision ${env.currentRevision}` }));
      if (errors.length) throw new ProblemError(400, "The status report names a revision the environment does not have.", { errors });

      const values = {
        report,
        appliedRevision: report.appliedRevision,
        desiredRevision: report.desiredRevision,
        agentVersion: report.agentVersion,
        lastSeenAt: now,
        lastSyncAt: report.lastSuccessfulSyncAt ? new Date(report.lastSuccessfulSyncAt) : null,
        credentialId: a.credentialId,
      };
      await tx
        .insert(agentStatus)
        .values({ environmentId: a.environmentId, tenantId: a.tenantId, ...values })
        .onConflictDoUpdate({ target: agentStatus.environmentId, set: values });
      // environment.online, if an offline event was sent for the silence this report ends.
      await agentReported(tx, { tenantId: a.tenantId, environmentId: a.environmentId, environmentName: env.name, previousSeenAt: env.previousSeenAt, now });
      if (!env.previous || !sameTraced(env.previous, report)) {
        await audit(
          tx,
          { tenantId: a.tenantId, subject: agentActor(a.prefix) },
          {
            action: "agent.status_changed",
            targetType: "environment",
            targetId: a.environmentId,
            before: env.previous ? traced(env.previous) : null,
            after: { ...traced(report), agentVersion: report.agentVersion },
          },
        );
      }
      // Webhook environment.degraded / environment.recovered on each change of Gatekeeper's health
      // (the report before this one is the baseline; a first report is compared with healthy).
      const reasons = gatekeeperProblems(report.gatekeeper);
      const previousReasons = env.previous ? gatekeeperProblems(env.previous.gatekeeper) : [];
      if (reasons.length > 0 !== previousReasons.length > 0) {
        const environment = { id: a.environmentId, name: env.name };
        await enqueueEvent(tx, {
          tenantId: a.tenantId,
          environmentId: a.environmentId,
          ...(reasons.length
            ? { type: "environment.degraded", data: { environment, reasons } }
            : { type: "environment.recovered", data: { environment, previousReasons } }),
          timestamp: now,
          now,
        });
      }
      // Webhook settings.applied, queued in this transaction (the outbox): a newly applied revision.
      const previousRevision = env.previous?.appliedRevision ?? null;
      if (report.appliedRevision !== null && report.appliedRevision !== previousRevision) {
        await enqueueEvent(tx, {
          tenantId: a.tenantId,
          environmentId: a.environmentId,
          type: "settings.applied",
          timestamp: now,
          now,
          data: { environment: { id: a.environmentId, name: env.name }, revision: report.appliedRevision, previousRevision },
        });
      }
    });
    return c.body(null, 204);
  });
}
