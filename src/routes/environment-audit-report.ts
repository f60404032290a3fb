// GET /v1/environments/{id}/audit-report: the latest Gatekeeper audit the environment's agent
// sent — every managed constraint with its violations — and totals to read it at a glance.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { ConstraintAudit } from "../protocol/agent.ts";
import { auditTotals, latestAuditReport } from "../services/environment-reports.ts";
import { EnvParams } from "./settings-common.ts";

const Counts = z.record(z.string(), z.int());

const EnvironmentAuditReport = z
  .object({
    environmentId: z.uuid(),
    receivedAt: z.iso.datetime().openapi({ description: "When the API received the report." }),
    collectedAt: z.iso.datetime().openapi({ description: "When the agent collected it from the cluster." }),
    totals: z.object({
      constraints: z.int(),
      violations: z.int().openapi({ description: "Sum of every constraint's totalViolations (Gatekeeper's count, not only the listed ones)." }),
      byControl: Counts.openapi({ description: "Violations per Gatehouse control (constraints without one are left out)." }),
      byEnforcementAction: Counts.openapi({ description: "Violations per constraint enforcement action (deny, warn, dryrun)." }),
    }),
    constraints: z.array(z.strictObject(ConstraintAudit.shape).openapi("ConstraintAudit")),
  })
  .openapi("EnvironmentAuditReport");
type EnvironmentAuditReport = z.infer<typeof EnvironmentAuditReport>;

export const route = createRoute({
  method: "get",
  path: "/v1/environments/{id}/audit-report",
  tags: ["Environments"],
  summary: "The environment's latest audit report",
  description: "What Gatekeeper's audit found in the cluster, as the agent last reported it. 404 until the agent has sent one. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams },
  responses: {
    200: { description: "The latest report", content: { "application/json": { schema: EnvironmentAuditReport } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const r = await c.get("db").withTenant(p.tenantId, (tx) => latestAuditReport(tx, p.tenantId, id));
    const body: EnvironmentAuditReport = {
      environmentId: id,
      receivedAt: r.receivedAt.toISOString(),
      collectedAt: r.collectedAt.toISOString(),
      totals: auditTotals(r.report),
      constraints: r.report.constraints,
    };
    return c.json(body, 200);
  });
}
