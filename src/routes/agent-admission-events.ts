// POST /agent/v1/admission-events: what Gatekeeper's webhook refused, warned about or recorded in
// dryrun in the calling credential's cluster, read by the agent from Gatekeeper's admission Events
// (and the API server's refusals of controllers' Pods, from their FailedCreate Events), folded into
// the environment's denial history (services/admission-ingest.ts). Idempotent: an
// Event sent again at the same count adds nothing. Agent credentials only.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AgentEnv } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { AdmissionEvent, MAX_ADMISSION_EVENTS } from "../protocol/admission.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { ingestAdmissionEvents } from "../services/admission-ingest.ts";
import { DEFAULT_DENIAL_NOTIFY_WINDOW_SECONDS, DEFAULT_DENIAL_RETENTION_DAYS } from "../services/denials.ts";
import { agentSecurity, agentTags } from "./agent-common.ts";

const Batch = z
  .strictObject({ events: z.array(z.strictObject(AdmissionEvent.shape).openapi("AdmissionEvent")).min(1).max(MAX_ADMISSION_EVENTS) })
  .openapi("AdmissionEventBatch");
const Result = z
  .object({
    counted: z.int().openapi({ description: "Events that added to a denial's count (new, or grown)." }),
    unchanged: z.int().openapi({ description: "Events already counted at this count." }),
    shadow: z.int().openapi({
      description: "Events of a draft's shadow (preview-…) constraints: not denials, never counted here; they go into the draft's preview (admissions).",
    }),
  })
  .openapi("AdmissionEventResult");

export const route = createRoute({
  method: "post",
  path: AGENT_PATHS.admissionEvents,
  tags: agentTags,
  security: agentSecurity,
  summary: "Report admission events",
  description: `Gatekeeper's admission Events (reasons FailedAdmission, WarningAdmission, DryrunViolation; source webhook) and controllers' FailedCreate Events naming a ValidatingAdmissionPolicy Gatekeeper generated (source apiserver), at most ${MAX_ADMISSION_EVENTS} a request, folded into the environment's denial history: one row per action, constraint, namespace and workload, with a count. An Event already sent at the same count adds nothing. Agent credentials only.`,
  request: { query: z.strictObject({}), body: { required: true, content: { "application/json": { schema: Batch } } } },
  responses: {
    200: { description: "Recorded", content: { "application/json": { schema: Result } } },
    ...problemResponses(400, 401, 404, 413, 415),
  },
});

export function register(app: OpenAPIHono<AgentEnv>): void {
  app.openapi(route, async (c) => {
    const a = c.get("agent");
    const { events } = c.req.valid("json");
    const now = c.get("now")();
    const retentionDays = c.get("config").denialRetentionDays ?? DEFAULT_DENIAL_RETENTION_DAYS;
    const windowSeconds = c.get("config").denialNotifyWindowSeconds ?? DEFAULT_DENIAL_NOTIFY_WINDOW_SECONDS;
    const result = await ingestAdmissionEvents(c.get("db"), a, events, { now, windowSeconds, retentionDays });
    return c.json(result, 200);
  });
}
