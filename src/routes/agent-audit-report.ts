// POST /agent/v1/audit-report: every managed constraint's Gatekeeper audit status, sent by the
// agent when it changed. The latest report per environment is kept as it is, and diffed into the
// violation history (src/services/violations.ts), in bounded chunks (src/services/audit-ingest.ts). Reports can be megabytes: this path has its own body limit (AGENT_BODY_LIMIT_BYTES).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AgentEnv } from "../app/env.ts";
import { problemResponses, ProblemError, validationHook } from "../app/problem.ts";
import { PG, pgErrorCode } from "../db/client.ts";
import { validateAuditReport } from "../services/audit-validate.ts";
import { AGENT_PATHS, AUDIT_REPORT_MAX_AHEAD_SECONDS, AuditReport } from "../protocol/agent.ts";
import { RESUME_AFTER_MS, storeThenApply, whileApplying } from "../services/audit-background.ts";
import { inIngestSlot, ingestInChunks } from "../services/audit-ingest.ts";
import { splitShadows } from "../services/draft-preview.ts";
import { agentSecurity, agentTags, environmentGone } from "./agent-common.ts";

export const route = createRoute({
  method: "post",
  path: AGENT_PATHS.auditReport,
  tags: agentTags,
  security: agentSecurity,
  summary: "Report Gatekeeper's audit results",
  description: `Replaces the latest audit report of the calling credential's environment and updates its violation history (violations opened, seen, resolved; webhook events queued). A large report is applied in several short transactions, so it does not hold the database; the 204 comes once all of it is applied, and a retry of the same report (same collectedAt) resumes or, when it was applied, changes nothing. A report collected before the stored one (a late retry) is accepted but does not replace it; one collected more than ${AUDIT_REPORT_MAX_AHEAD_SECONDS} s ahead of the server's clock is refused (400). Unknown fields are refused. With \`Prefer: respond-async\` (RFC 7240; the Gatehouse agent does not send it) the answer is 202 once the report is stored, with \`Preference-Applied: respond-async\`, and the history is updated after the response; a report whose update is cut short (a restart) is resumed from the stored copy within about ${RESUME_AFTER_MS / 1000} s, so nothing needs to be sent again. The body limit is AGENT_BODY_LIMIT_BYTES (default 16 MiB). While more reports wait to be applied than this server queues (AUDIT_INGEST_QUEUE), a report is refused 503 with Retry-After; send it again then. Agent credentials only.`,
  // No parameters: the credential alone names the environment.
  request: {
    query: z.strictObject({}),
    headers: z.object({
      prefer: z.string().optional().openapi({ description: "respond-async: answer 202 once stored; apply after the response.", example: "respond-async" }),
    }),
    body: { required: true, content: { "application/json": { schema: z.strictObject(AuditReport.shape).openapi("AuditReport") } } },
  },
  responses: {
    204: { description: "Recorded: stored and applied to the violation history" },
    202: {
      description: "Stored; applied to the violation history after the response (Prefer: respond-async)",
      headers: { "Preference-Applied": { schema: { type: "string" } } },
    },
    ...problemResponses(400, 401, 404, 413, 415, 503),
  },
});

/** Whether a Prefer header (RFC 7240: comma-separated preferences, each maybe with parameters) asks for respond-async. */
export function prefersAsync(header: string | undefined): boolean {
  return !!header && header.split(",").some((p) => p.split(/[;=]/, 1)[0]!.trim().toLowerCase() === "respond-async");
}

const MAX_TOTAL = 2_147_483_647;

// What runs: the same route (its media type gate, its query), but the body checked against
// AuditReport by the handler, in slices (audit-validate.ts): 51,000 violations validated at once
// held every other request for 0.3–0.7 s. The documentation is the route above, unchanged.
// A twin, not one app.openapi(route): @hono/zod-openapi 1.6 always parses a documented JSON body whole with zod (it passes no validationFunction to zValidator; route middleware runs before that parse, the hook after it).
const runtimeRoute = {
  ...route,
  hide: true,
  request: { ...route.request, body: { required: true, content: { "application/json": { schema: z.unknown() } } } },
};

export function register(app: OpenAPIHono<AgentEnv>): void {
  app.openAPIRegistry.registerPath(route);
  app.openapi(runtimeRoute, async (c) => {
    const a = c.get("agent");
    const valid = await validateAuditReport(c.req.valid("json"));
    if (!valid.success) return validationHook({ target: "json", success: false, error: valid.error }, c)!;
    // Drafts' shadow constraints are their previews, never violations (nor webhook events).
    const { report, shadows } = splitShadows(valid.data);
    const totalViolations = report.constraints.reduce((n, k) => n + k.totalViolations, 0);
    // Stored as int4: a larger total is a bad report (a 400), not a database error (a 500).
    if (totalViolations > MAX_TOTAL) {
      throw new ProblemError(400, "The request body is invalid.", {
        errors: [{ path: "constraints", message: `the total of totalViolations must be at most ${MAX_TOTAL}` }],
      });
    }
    const receivedAt = c.get("now")();
    if (Date.parse(report.collectedAt) > receivedAt.getTime() + AUDIT_REPORT_MAX_AHEAD_SECONDS * 1000) {
      throw new ProblemError(400, "The request body is invalid.", {
        errors: [{ path: "collectedAt", message: `must not be more than ${AUDIT_REPORT_MAX_AHEAD_SECONDS} seconds ahead of the server's clock` }],
      });
    }
    const config = c.get("config");
    const args = { tenantId: a.tenantId, environmentId: a.environmentId, report, shadows, receivedAt, linkBase: config.publicUrl ?? new URL(c.req.url).origin };
    const later = prefersAsync(c.req.header("prefer"));
    try {
      const db = c.get("db");
      if (later) {
        // Answered once stored; the apply goes on after the response, in the same ingest slot, on
        // a database that outlives the request (on Workers a Pool per transaction: two connections).
        const deferred = c.get("deferred");
        const { stored, done } = storeThenApply(deferred.db, args, config.ingest, c.get("log"));
        deferred.run(c, done);
        await stored;
      } else {
        // Superseded (a late retry, or a newer report arrived mid-way) is accepted too: nothing to redo.
        await inIngestSlot(db, config.ingest, () => whileApplying(db, args, () => ingestInChunks(db, args, config.ingest)));
      }
    } catch (err) {
      // The environment was deleted after the credential was checked: the report's foreign key.
      if (pgErrorCode(err) === PG.foreignKeyViolation) throw environmentGone();
      throw err;
    }
    if (later) {
      c.header("preference-applied", "respond-async");
      return c.body(null, 202);
    }
    return c.body(null, 204);
  });
}
