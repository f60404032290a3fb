// /v1/environments/{id}/settings: the environment's settings document, one revision at a time.
// The revision number is the ETag: agents poll GET with If-None-Match (304 while nothing changed),
// writers PUT with If-Match so that of two concurrent edits one wins and the other gets 412.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { ifMatchRevision, noneMatch, revisionEtag } from "../app/conditional.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses, ProblemError } from "../app/problem.ts";
import { EnforcementAction, EnforcementPoint } from "../policies/common/knobs.ts";
import { catalogue, controlById, EnvironmentSettings, fieldIssues } from "../policies/index.ts";
import { environmentNotFound } from "../services/environments.ts";
import { currentRevision, currentSettings } from "../services/revisions.ts";
import { commitDerivedRevision, type StoredRevision } from "../services/settings.ts";
import { EnvParams, RevisionDetail, revisionJson, SettingsDocument } from "./settings-common.ts";
import { mergePatch } from "../lib/merge-patch.ts";

const PutBody = z.strictObject({ settings: SettingsDocument, comment: z.string().max(500).default("") }).openapi("SettingsUpdate");

// RFC 7396 merge patch of one control: given fields replace, null removes, absent keep.
const ControlPatch = z
  .strictObject({
    enabled: z.boolean().nullable().optional(),
    enforcementAction: EnforcementAction.nullable().optional(),
    enforcementPoint: EnforcementPoint.nullable().optional(),
    exemptions: z.record(z.string(), z.unknown()).nullable().optional(),
    options: z.record(z.string(), z.unknown()).nullable().optional(),
  })
  .nullable()
  .openapi("ControlPatch", {
    description:
      "A JSON merge patch (RFC 7396) of the control's settings: fields given replace the current ones (objects merge, arrays replace), " +
      "a field set to null returns to its default, and a body of `null` removes the control (disables it).",
  });

const IfMatch = z.object({
  "if-match": z.string().optional().openapi({ description: 'The revision the change is based on, e.g. "3" (the ETag of GET).' }),
});
const IfNoneMatch = z.object({
  "if-none-match": z.string().optional().openapi({ description: "The ETag the caller holds; 304 while it is still current." }),
});
const ControlParams = EnvParams.extend({
  control: z.string().openapi({ param: { name: "control", in: "path" }, example: "capabilities" }),
});

const etagHeader = { ETag: { description: 'The revision, quoted: "3".', schema: { type: "string" as const } } };
const json = <T extends z.ZodType>(schema: T) => ({ content: { "application/json": { schema } } });
const tags = ["Settings"];

export const getSettings = createRoute({
  method: "get",
  path: "/v1/environments/{id}/settings",
  tags,
  summary: "The current settings",
  description: "The current revision of the settings document. Send If-None-Match with the last ETag to get 304 while it is unchanged. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams, headers: IfNoneMatch },
  responses: {
    200: { description: "The current revision", headers: etagHeader, ...json(RevisionDetail) },
    304: { description: "Not modified: the If-None-Match ETag is current", headers: etagHeader },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const putSettings = createRoute({
  method: "put",
  path: "/v1/environments/{id}/settings",
  tags,
  summary: "Replace the settings",
  description: "Writes a new revision. If-Match with the revision the change is based on is required (428 without, 412 when stale). Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: EnvParams, headers: IfMatch, body: { ...json(PutBody), required: true } },
  responses: {
    200: { description: "The new revision", headers: etagHeader, ...json(RevisionDetail) },
    ...problemResponses(400, 401, 403, 404, 412, 413, 415, 428),
  },
});

export const patchControl = createRoute({
  method: "patch",
  path: "/v1/environments/{id}/settings/controls/{control}",
  tags,
  summary: "Change one control",
  description:
    "Merge-patches one control's settings into the current document and writes a new revision. If-Match is optional (412 when stale). Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: { params: ControlParams, headers: IfMatch, body: { ...json(ControlPatch), required: true } },
  responses: {
    200: { description: "The new revision", headers: etagHeader, ...json(RevisionDetail) },
    ...problemResponses(400, 401, 403, 404, 412, 413, 415),
  },
});

/** The current revision a PUT or PATCH changes; an environment without settings (revision 0) has none to change. */
function existing(id: string, current: StoredRevision | null): StoredRevision {
  if (!current) throw environmentNotFound(id);
  return current;
}

export function register(app: OpenAPIHono<V1Env>): void {
  // The agents' poll. Documented as declared, but If-None-Match (an optional string, which any
  // header is) is read directly: validating the headers makes node-server materialise and sort
  // all of them, 5-7% of a 304's CPU.
  const { middleware: _, ...documented } = getSettings;
  app.openAPIRegistry.registerPath(documented);
  app.openapi({ ...getSettings, hide: true, request: { params: getSettings.request.params } }, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    // While the ETag they hold is current, a 304 without a body from the revision number alone;
    // the document is read only when it changed.
    const ifNoneMatch = c.req.header("if-none-match");
    if (ifNoneMatch !== undefined) {
      const revision = await c.get("db").withTenant(p.tenantId, (tx) => currentRevision(tx, p.tenantId, id));
      if (revision !== null && noneMatch(ifNoneMatch, revisionEtag(revision))) {
        c.header("Cache-Control", "private, no-cache");
        c.header("ETag", revisionEtag(revision));
        return c.body(null, 304);
      }
    }
    const current = await c.get("db").withTenant(p.tenantId, (tx) => currentSettings(tx, p.tenantId, id));
    c.header("Cache-Control", "private, no-cache");
    if (!current) throw environmentNotFound(id);
    c.header("ETag", revisionEtag(current.revision));
    if (noneMatch(ifNoneMatch, revisionEtag(current.revision))) return c.body(null, 304);
    return c.json(revisionJson(current), 200);
  });

  app.openapi(putSettings, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { settings, comment } = c.req.valid("json");
    const expected = ifMatchRevision(c.req.valid("header")["if-match"], { star: false });
    if (expected === undefined) {
      throw new ProblemError(
        428,
        'Replacing the settings requires If-Match with the revision the change is based on, e.g. If-Match: "3" (the ETag of GET .../settings).',
      );
    }
    const stored = await c.get("db").withTenant(p.tenantId, (tx) =>
      commitDerivedRevision(tx, p, {
        environmentId: id,
        expected,
        action: "settings.update",
        derive(current) {
          existing(id, current);
          return { document: settings, comment };
        },
      }),
    );
    c.header("ETag", revisionEtag(stored.revision));
    return c.json(revisionJson(stored), 200);
  });

  app.openapi(patchControl, async (c) => {
    const p = c.get("principal");
    const { id, control } = c.req.valid("param");
    if (!controlById.has(control)) {
      throw new ProblemError(404, `No control "${control}". Controls: ${catalogue.map((k) => k.id).join(", ")}.`);
    }
    // Without a Content-Type hono's validator sees `{}`, which is a meaningful patch here
    // (enable the control with defaults): a missing body must not be read as one.
    if (!c.req.header("content-type")) throw new ProblemError(400, "This request needs a JSON body (the control's settings, or null).");
    const patch = c.req.valid("json");
    const expected = ifMatchRevision(c.req.valid("header")["if-match"], { star: true });
    // The environment is locked (commitDerivedRevision): concurrent patches apply one after the other, none lost.
    const stored = await c.get("db").withTenant(p.tenantId, (tx) =>
      commitDerivedRevision(tx, p, {
        environmentId: id,
        expected,
        action: "settings.patch",
        derive(current) {
          const document = existing(id, current).document as EnvironmentSettings; // stored normalised
          const controls: Record<string, unknown> = { ...document.controls };
          if (patch === null) delete controls[control];
          else controls[control] = mergePatch(controls[control], patch);
          const parsed = EnvironmentSettings.safeParse({ ...document, controls });
          if (!parsed.success) {
            // Paths relative to the body (the control) where they fall inside it.
            const prefix = `controls.${control}`;
            const errors = fieldIssues(parsed.error).map((i) => ({
              ...i,
              path: i.path === prefix ? "(root)" : i.path.startsWith(`${prefix}.`) ? i.path.slice(prefix.length + 1) : `settings.${i.path}`,
            }));
            throw new ProblemError(400, `The settings of control ${control} are invalid.`, { errors });
          }
          return { document: parsed.data, comment: `${patch === null ? "Removed" : "Changed"} control ${control}` };
        },
      }),
    );
    c.header("ETag", revisionEtag(stored.revision));
    return c.json(revisionJson(stored), 200);
  });
}
