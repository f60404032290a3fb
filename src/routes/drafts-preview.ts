// GET /v1/environments/{id}/drafts/{draftId}/preview: what the draft would refuse or warn about in
// the live cluster, from Gatekeeper's audit of its shadow constraints (src/services/draft-preview.ts).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { draftPreview } from "../services/draft-preview.ts";
import { getDraft } from "../services/drafts.ts";
import { DraftParams } from "./drafts.ts";

const Workload = z.object({ kind: z.string(), name: z.string() });
const PreviewViolation = z
  .object({
    kind: z.string(),
    namespace: z.string(),
    name: z.string(),
    message: z.string(),
    alreadyViolating: z.boolean(),
    owner: Workload.nullable().openapi({
      description:
        "The workload that owns the object (a Pod's Deployment, through its ReplicaSet), as the agent resolved it; null when it has no controller or none could be read.",
    }),
  })
  .openapi("DraftPreviewViolation");
const AdmittedObject = z
  .object({
    kind: z.string(),
    namespace: z.string(),
    name: z.string(),
    workload: Workload.openapi({ description: "The owning workload, or the object itself." }),
    username: z.string(),
    message: z.string(),
    count: z.int(),
    lastSeenAt: z.string(),
  })
  .openapi("DraftPreviewAdmission");
const ControlPreview = z
  .object({
    control: z.string().openapi({ example: "privilegedContainers" }),
    constraint: z.object({ kind: z.string(), name: z.string().openapi({ example: "preview-0b6c5f6e-privileged-containers" }) }),
    enforcementAction: z.string().openapi({ description: "What the control would do once promoted; its shadow only records (dryrun)." }),
    evaluated: z.boolean().openapi({ description: "false until Gatekeeper audited the shadow constraint after the draft's last change." }),
    auditTimestamp: z.string().nullable(),
    totalViolations: z.int().nullable().openapi({ description: "Exact: Gatekeeper's totalViolations (findings, not objects); null until evaluated." }),
    truncated: z.boolean().openapi({ description: "The list is capped by Gatekeeper's --constraint-violations-limit (default 20)." }),
    alreadyViolating: z.int().openapi({ description: "Listed objects that are open violations of the same control under the current settings." }),
    new: z.int().openapi({ description: "Listed objects only the draft would catch." }),
    violations: z.array(PreviewViolation),
    admissions: z.array(AdmittedObject).openapi({
      description:
        "New objects the draft would refuse (or warn about): admitted since its shadow existed, recorded by the shadow at admission (Gatekeeper's --emit-admission-events), one per workload, newest first. Not denials: the denial history never counts them.",
    }),
  })
  .openapi("DraftControlPreview");
const DraftPreview = z
  .object({ draftId: z.uuid(), evaluated: z.boolean(), collectedAt: z.string().nullable(), controls: z.array(ControlPreview) })
  .openapi("DraftPreview");

export const route = createRoute({
  method: "get",
  path: "/v1/environments/{id}/drafts/{draftId}/preview",
  tags: ["Drafts"],
  summary: "Preview a draft against the live cluster",
  description:
    "Per enabled control of the draft: Gatekeeper's audit of its shadow constraint — how many findings (exact), which objects (capped: `truncated`), which already violate the current settings and which are new, and when it was audited. `evaluated: false` until the first audit after the shadow constraint exists (and after each change to the draft). Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: DraftParams },
  responses: { 200: { description: "The preview", content: { "application/json": { schema: DraftPreview } } }, ...problemResponses(400, 401, 403, 404, 410) },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { id, draftId } = c.req.valid("param");
    const preview = await c.get("db").withTenant(p.tenantId, async (tx) => draftPreview(tx, await getDraft(tx, p.tenantId, id, draftId, c.get("now")())));
    return c.json(preview, 200);
  });
}
