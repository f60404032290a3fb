// What POST /agent/v1/status writes (routes/agent-status.ts parses and answers): whether a report
// needs writing at all, the heartbeat that only moves its times, and the report's transaction —
// the status row, the audit of what an operator must trace (the applied revision, Gatekeeper's
// installation), and the webhook events of a change in Gatekeeper's health or the applied revision.
import { and, eq, sql } from "drizzle-orm";
import type { AgentPrincipal } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Database, Db } from "../db/client.ts";
import { agentStatus, environments } from "../db/schema.ts";
import { sha256Hex } from "../lib/sha256.ts";
import { type AgentStatusReport, gatekeeperProblems, OFFLINE_AFTER_INTERVALS } from "../protocol/agent.ts";
import { agentActor, environmentGone } from "../routes/agent-common.ts";
import { audit } from "./audit.ts";
import { agentReported } from "./webhook-liveness.ts";
import { enqueueEvent } from "./webhook-outbox.ts";

type Traced = { appliedRevision: number | null; gatekeeper: { installed: boolean; version: string | null } };
const traced = (r: Traced): Traced => ({
  appliedRevision: r.appliedRevision,
  gatekeeper: { installed: r.gatekeeper.installed, version: r.gatekeeper.version },
});
const sameTraced = (a: Traced, b: Traced) =>
  a.appliedRevision === b.appliedRevision && a.gatekeeper.installed === b.gatekeeper.installed && a.gatekeeper.version === b.gatekeeper.version;

/**
 * What a report needs written, decided in the database in one statement
 * (gatehouse_agent_status_check, migrations/0021) against the stored report's hash. A report that
 * repeats the stored one (but for its sync time) less than one poll interval after the last write
 * needs nothing ("none"): an agent reporting every interval is touched at most once per interval,
 * and its lastSeenAt stays well inside the OFFLINE_AFTER_INTERVALS the offline state waits for.
 * The same report later, while the agent cannot have been declared offline yet, has had only its
 * times moved by that statement ("heartbeat"). Anything else ("report") takes recordAgentStatus.
 */
export async function checkStatus(
  db: Database,
  a: AgentPrincipal,
  report: AgentStatusReport,
  o: { now: Date; pollIntervalSeconds: number },
): Promise<"none" | "heartbeat" | "report"> {
  const interval = o.pollIntervalSeconds * 1000;
  const [row] = await db.statement<{ outcome: "none" | "heartbeat" | "report" }>(
    sql`select gatehouse_agent_status_check(${a.tenantId}, ${a.environmentId}, ${a.credentialId}, ${reportHash(report)}, ${o.now.toISOString()}::timestamptz, ${report.lastSuccessfulSyncAt}::timestamptz, ${interval}, ${OFFLINE_AFTER_INTERVALS * interval}) as outcome`,
  );
  return row?.outcome ?? "report";
}

/**
 * The hash two reports are compared by. The revisions were checked when the stored report came,
 * and revisions only grow. The time of the last successful sync moves on every loop, like
 * lastSeenAt: it is heartbeat, not news (whether there has been one at all is).
 * `report` is AgentStatusReport's output, whose keys come in the schema's order whatever order
 * they were sent in (the schema has no records), so its JSON is canonical already: RFC 8785's
 * canonicalize took 9 % of the API's CPU under bench:fleet, JSON.stringify is native.
 */
export function reportHash(report: AgentStatusReport): string {
  return sha256Hex(JSON.stringify({ ...report, lastSuccessfulSyncAt: report.lastSuccessfulSyncAt !== null }));
}

/** The report as the environment's status, with its audit row and webhook events, in the caller's transaction. */
export async function recordAgentStatus(tx: Db, a: AgentPrincipal, report: AgentStatusReport, now: Date): Promise<void> {
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
    reportHash: reportHash(report),
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
}
