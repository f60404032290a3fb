// What an environment's agent last sent, as the user routes read it: its status report
// (GET /v1/environments/{id}/agent) and Gatekeeper's latest audit (…/audit-report). One query
// each, the environment and the report joined, so "no such environment" (404) and "nothing
// reported yet" come from the same read; the routes shape the answer.
import { and, eq } from "drizzle-orm";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { gunzipJson } from "../db/gzip-json.ts";
import { agentStatus, auditReports, environments, type AgentStatus } from "../db/schema.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { environmentNotFound } from "./environments.ts";

const ofEnvironment = (tenantId: string, id: string) => and(eq(environments.id, id), eq(environments.tenantId, tenantId));

/** The environment's current revision and its agent's last status row (null before its first report); 404 when it is not this tenant's. */
export async function environmentAgentStatus(tx: Db, tenantId: string, id: string): Promise<{ currentRevision: number; status: AgentStatus | null }> {
  const [row] = await tx
    .select({ currentRevision: environments.currentRevision, status: agentStatus })
    .from(environments)
    .leftJoin(agentStatus, and(eq(agentStatus.environmentId, environments.id), eq(agentStatus.tenantId, environments.tenantId)))
    .where(ofEnvironment(tenantId, id));
  if (!row) throw environmentNotFound(id);
  return row;
}

export interface AuditTotals {
  constraints: number;
  violations: number;
  byControl: Record<string, number>;
  byEnforcementAction: Record<string, number>;
}

/** Gatekeeper's own counts (totalViolations), not only the listed violations. */
export function auditTotals(report: AuditReport): AuditTotals {
  const byControl: Record<string, number> = {};
  const byEnforcementAction: Record<string, number> = {};
  let violations = 0;
  for (const k of report.constraints) {
    violations += k.totalViolations;
    if (k.control !== null) byControl[k.control] = (byControl[k.control] ?? 0) + k.totalViolations;
    byEnforcementAction[k.enforcementAction] = (byEnforcementAction[k.enforcementAction] ?? 0) + k.totalViolations;
  }
  return { constraints: report.constraints.length, violations, byControl, byEnforcementAction };
}

/** The latest audit report the environment's agent sent; 404 for another tenant's environment, and 404 until the agent has sent one. */
export async function latestAuditReport(tx: Db, tenantId: string, id: string): Promise<{ receivedAt: Date; collectedAt: Date; report: AuditReport }> {
  const [row] = await tx
    .select({ report: auditReports })
    .from(environments)
    .leftJoin(auditReports, and(eq(auditReports.environmentId, environments.id), eq(auditReports.tenantId, environments.tenantId)))
    .where(ofEnvironment(tenantId, id));
  if (!row) throw environmentNotFound(id);
  if (!row.report) throw new ProblemError(404, `The agent of environment ${id} has not sent an audit report yet.`);
  const r = row.report;
  return { receivedAt: r.receivedAt, collectedAt: r.collectedAt, report: gunzipJson(r.report) as AuditReport }; // validated when it was received
}
