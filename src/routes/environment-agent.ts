// GET /v1/environments/{id}/agent: what the environment's agent last reported — is it connected,
// has it applied the current revision, is Gatekeeper healthy — for the people who own it.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { GatekeeperHealth, ObjectResult, OFFLINE_AFTER_INTERVALS, TemplateHealth } from "../protocol/agent.ts";
import { agentSummary, AgentStateSchema } from "./agent-common.ts";
import { environmentAgentStatus } from "../services/environment-reports.ts";
import { EnvParams } from "./settings-common.ts";

const EnvironmentAgent = z
  .object({
    state: AgentStateSchema,
    lastSeenAt: z.iso.datetime().nullable().openapi({ description: "When the agent last reported its status." }),
    lastSyncAt: z.iso.datetime().nullable().openapi({ description: "The agent's last complete sync, as it reported it." }),
    desiredRevision: z.int().openapi({ description: "The environment's current settings revision." }),
    fetchedRevision: z.int().nullable().openapi({ description: "The revision the agent last fetched (it may still be failing to apply it)." }),
    appliedRevision: z.int().nullable().openapi({ description: "The revision whose objects the agent last applied completely." }),
    inSync: z.boolean().openapi({ description: "appliedRevision equals desiredRevision." }),
    agentVersion: z.string().nullable(),
    kubernetesVersion: z.string().nullable(),
    gatekeeper: z
      .object({
        installed: z.boolean(),
        version: z.string().nullable(),
        webhook: z
          .strictObject(GatekeeperHealth.webhook.unwrap().unwrap().shape)
          .nullable()
          .openapi({ description: "Gatekeeper's admission webhook endpoints; null when the agent cannot tell." }),
        audit: z
          .strictObject(GatekeeperHealth.audit.unwrap().unwrap().shape)
          .nullable()
          .openapi({ description: "How recent Gatekeeper's audit is; null without managed constraints, or from an older agent." }),
        admissionEvents: z.boolean().nullable().openapi({
          description:
            "Whether Gatekeeper's controller runs with --emit-admission-events, which the denial history (/v1/denials) needs: false means refusals are not recorded — add the flag to its args. null: the agent cannot read its Deployment.",
        }),
        vap: GatekeeperHealth.vap.unwrap().unwrap().nullable().openapi({
          description:
            "For controls the API server enforces (enforcementPoint apiserver or both): whether Gatekeeper generated their ValidatingAdmissionPolicies and bindings. null: no control asks for the API server, or an older agent.",
        }),
      })
      .nullable(),
    degradedReasons: z.array(z.string()).openapi({ description: "Why state is degraded; empty otherwise." }),
    error: z.string().nullable().openapi({ description: "Why the agent's last loop did not complete, if it did not." }),
    objects: z.array(z.strictObject(ObjectResult.shape).openapi("AgentObjectResult")),
    templates: z.array(z.strictObject(TemplateHealth.shape).openapi("AgentTemplateHealth")),
  })
  .openapi("EnvironmentAgent");
type EnvironmentAgent = z.infer<typeof EnvironmentAgent>;

export const route = createRoute({
  method: "get",
  path: "/v1/environments/{id}/agent",
  tags: ["Environments"],
  summary: "The environment's agent status",
  description: `The agent's last status report: online, degraded (reporting, but Gatekeeper's webhook has no ready endpoint or its audit is stale: degradedReasons), offline (no report for more than ${OFFLINE_AFTER_INTERVALS} poll intervals) or never_connected; the applied revision against the current one; Gatekeeper's installation, each object's apply result and each template's health. Requires viewer.`,
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams },
  responses: {
    200: { description: "The agent's status", content: { "application/json": { schema: EnvironmentAgent } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => environmentAgentStatus(tx, p.tenantId, id));
    const s = row.status;
    const summary = agentSummary(
      s && { ...s, gatekeeper: s.report.gatekeeper },
      row.currentRevision,
      c.get("now")(),
      c.get("config").agent.pollIntervalSeconds,
    );
    const body: EnvironmentAgent = {
      state: summary.state,
      lastSeenAt: summary.lastSeenAt,
      lastSyncAt: s?.lastSyncAt?.toISOString() ?? null,
      desiredRevision: row.currentRevision,
      fetchedRevision: s?.desiredRevision ?? null,
      appliedRevision: summary.appliedRevision,
      inSync: summary.inSync,
      agentVersion: s?.agentVersion ?? null,
      kubernetesVersion: s?.report.kubernetesVersion ?? null,
      gatekeeper: s
        ? {
            installed: s.report.gatekeeper.installed,
            version: s.report.gatekeeper.version,
            webhook: s.report.gatekeeper.webhook ?? null,
            audit: s.report.gatekeeper.audit ?? null,
            admissionEvents: s.report.gatekeeper.admissionEvents ?? null,
            vap: s.report.gatekeeper.vap ?? null,
          }
        : null,
      degradedReasons: summary.degradedReasons,
      error: s?.report.error ?? null,
      objects: s?.report.objects ?? [],
      templates: s?.report.templates ?? [],
    };
    return c.json(body, 200);
  });
}
