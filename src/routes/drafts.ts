// /v1/environments/{id}/drafts: proposed settings documents, previewed in the cluster as shadow
// (dryrun) constraints before one is promoted to the next revision. Create from a whole document,
// a preset or a merge-patch of controls; list, read, update, delete; promote. The work is in
// src/services/drafts.ts; the preview is drafts-preview.ts.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { revisionEtag } from "../app/conditional.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import type { Draft } from "../db/schema.ts";
import { PRESET_NAMES, type PresetName } from "../policies/index.ts";
import { shadowName } from "../protocol/agent.ts";
import { createDraft, deleteDraft, getDraft, listDrafts, promoteDraft, updateDraft, type DraftSource } from "../services/drafts.ts";
import { CommentField, EnvironmentId, EnvParams, NewRevisionResponse, revisionJson, SettingsDocument } from "./settings-common.ts";

export const DraftParams = z.object({ id: EnvironmentId, draftId: z.uuid().openapi({ description: "Draft id" }) });

const ControlsPatch = z.record(z.string(), z.record(z.string(), z.unknown()).nullable()).openapi({
  description:
    "A JSON merge patch (RFC 7396) of `controls`, keyed by control id: fields given replace (objects merge, arrays replace), null removes; a control set to null is removed (disabled).",
  example: { privilegedContainers: { enforcementAction: "deny" }, hostPaths: null },
});

const DraftBody = z
  .strictObject({
    settings: SettingsDocument.optional().openapi({ description: "A whole settings document." }),
    preset: z
      .enum(PRESET_NAMES as [PresetName, ...PresetName[]])
      .optional()
      .openapi({ description: "A preset applied to the base revision (its controls; environment-wide knobs kept)." }),
    controls: ControlsPatch.optional(),
    comment: CommentField,
  })
  .refine((b) => [b.settings, b.preset, b.controls].filter((x) => x !== undefined).length === 1, {
    message: "give exactly one of settings, preset or controls",
  })
  .openapi("DraftRequest");

const DraftJson = z
  .object({
    id: z.uuid(),
    environmentId: z.uuid(),
    baseRevision: z.int().min(0).openapi({ description: "The revision the draft was resolved against; promotion requires it to be current." }),
    settings: SettingsDocument,
    comment: z.string(),
    author: z.string(),
    version: z.int().min(1).openapi({ description: "1 when created, + 1 on every change." }),
    shadowPrefix: z.string().openapi({ description: "The name prefix of this version's shadow constraints in the cluster.", example: "preview-0b6c5f6e-1-" }),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
  })
  .openapi("Draft");
const DraftList = z
  .object({
    items: z.array(DraftJson),
    nextCursor: z.null().openapi({ description: "Always null: drafts are capped per environment (DRAFTS_PER_ENVIRONMENT), so one page holds them all." }),
  })
  .openapi("DraftList");
const PromoteBody = z.strictObject({ comment: CommentField }).openapi("PromoteDraftRequest");
const PromoteHeaders = z.object({
  "if-match": z.string().optional().openapi({ description: 'Required: the ETag of the current revision, e.g. "3" (428 without).' }),
});

export function draftJson(d: Draft) {
  return {
    id: d.id,
    environmentId: d.environmentId,
    baseRevision: d.baseRevision,
    settings: d.document as z.infer<typeof SettingsDocument>,
    comment: d.comment,
    author: d.author,
    version: d.version,
    shadowPrefix: shadowName(d.id, d.version, ""),
    createdAt: d.createdAt.toISOString(),
    updatedAt: d.updatedAt.toISOString(),
    expiresAt: d.expiresAt.toISOString(),
  };
}

const base = "/v1/environments/{id}/drafts";
const tags = ["Drafts"];
const one = { description: "The draft", content: { "application/json": { schema: DraftJson } } };
const bodyOf = { required: true, content: { "application/json": { schema: DraftBody } } };

export const createDraftRoute = createRoute({
  method: "post",
  path: base,
  tags,
  summary: "Create a draft",
  description:
    "A proposed settings document, resolved now against the current revision (its base): a whole document (`settings`), a preset (`preset`), or a merge-patch of `controls`. Its constraints run in the cluster as shadows (dryrun) until it is promoted, deleted or expires (DRAFT_TTL_DAYS after its last change). At most DRAFTS_PER_ENVIRONMENT open drafts per environment and TENANT_MAX_DRAFTS per tenant (409 beyond). Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: EnvParams, body: bodyOf },
  responses: {
    201: { ...one, headers: { Location: { schema: { type: "string" } } } },
    ...problemResponses(400, 401, 403, 404, 409, 413, 415),
  },
});

export const listRoute = createRoute({
  method: "get",
  path: base,
  tags,
  summary: "List open drafts",
  description: "The environment's open drafts, oldest first; expired ones are not listed. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams },
  responses: { 200: { description: "Every open draft", content: { "application/json": { schema: DraftList } } }, ...problemResponses(400, 401, 403, 404) },
});

export const getRoute = createRoute({
  method: "get",
  path: `${base}/{draftId}`,
  tags,
  summary: "Read a draft",
  description: "410 once it has expired. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: DraftParams },
  responses: { 200: one, ...problemResponses(400, 401, 403, 404, 410) },
});

export const updateRoute = createRoute({
  method: "patch",
  path: `${base}/{draftId}`,
  tags,
  summary: "Change a draft",
  description:
    "The same body as create. `settings` or `preset` re-resolve the draft against the current revision (rebasing it); a `controls` merge-patch applies to the draft's own document and keeps its base. Its expiry starts again and its preview waits for the next audit. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: DraftParams, body: bodyOf },
  responses: { 200: one, ...problemResponses(400, 401, 403, 404, 410, 413, 415) },
});

export const deleteRoute = createRoute({
  method: "delete",
  path: `${base}/{draftId}`,
  tags,
  summary: "Delete a draft",
  description: "The agent prunes its shadow constraints on its next pass. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: DraftParams },
  responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404, 410) },
});

export const promoteRoute = createRoute({
  method: "post",
  path: `${base}/{draftId}/promote`,
  tags,
  summary: "Promote a draft to the next revision",
  description:
    "Appends a revision whose document is the draft's (audited as settings.promote_draft) and removes the draft. If-Match must name the current revision (428 without); a draft based on an older revision is 412 with `baseRevision`, `currentRevision` and `changes` (what changed since its base): update it with a document or preset to rebase it. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: DraftParams, headers: PromoteHeaders, body: { required: false, content: { "application/json": { schema: PromoteBody } } } },
  responses: { 201: NewRevisionResponse, ...problemResponses(400, 401, 403, 404, 409, 410, 412, 415, 428) },
});

function sourceOf(body: z.infer<typeof DraftBody>): DraftSource {
  if (body.settings !== undefined) return { settings: body.settings };
  if (body.preset !== undefined) return { preset: body.preset };
  return { controls: body.controls ?? {} };
}

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(createDraftRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const draft = await c
      .get("db")
      .withTenant(p.tenantId, (tx) =>
        createDraft(
          tx,
          p,
          { environmentId: id, source: sourceOf(body), comment: body.comment, now: c.get("now")(), config: c.get("config").drafts },
          c.get("config").quotas,
        ),
      );
    c.header("location", `/v1/environments/${id}/drafts/${draft.id}`);
    return c.json(draftJson(draft), 201);
  });

  app.openapi(listRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listDrafts(tx, p.tenantId, id, c.get("now")()));
    return c.json({ items: rows.map(draftJson), nextCursor: null }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const p = c.get("principal");
    const { id, draftId } = c.req.valid("param");
    const draft = await c.get("db").withTenant(p.tenantId, (tx) => getDraft(tx, p.tenantId, id, draftId, c.get("now")()));
    return c.json(draftJson(draft), 200);
  });

  app.openapi(updateRoute, async (c) => {
    const p = c.get("principal");
    const { id, draftId } = c.req.valid("param");
    const body = c.req.valid("json");
    const draft = await c.get("db").withTenant(p.tenantId, (tx) =>
      updateDraft(tx, p, {
        environmentId: id,
        id: draftId,
        source: sourceOf(body),
        comment: body.comment,
        now: c.get("now")(),
        config: c.get("config").drafts,
      }),
    );
    return c.json(draftJson(draft), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const p = c.get("principal");
    const { id, draftId } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, (tx) => deleteDraft(tx, p, id, draftId, c.get("now")()));
    return c.body(null, 204);
  });

  app.openapi(promoteRoute, async (c) => {
    const p = c.get("principal");
    const { id, draftId } = c.req.valid("param");
    const ifMatch = c.req.valid("header")["if-match"];
    if (ifMatch === undefined) {
      throw new ProblemError(428, 'Promoting a draft requires If-Match with the current revision, e.g. If-Match: "3" (the ETag of GET .../settings).');
    }
    const { comment } = c.req.valid("json");
    const stored = await c
      .get("db")
      .withTenant(p.tenantId, (tx) => promoteDraft(tx, p, { environmentId: id, id: draftId, ifMatch, comment, now: c.get("now")() }));
    c.header("etag", revisionEtag(stored.revision));
    c.header("location", `/v1/environments/${id}/settings/revisions/${stored.revision}`);
    return c.json(revisionJson(stored), 201);
  });
}
