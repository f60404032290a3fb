// Pod Security Standards presets: list them, and apply one to an environment (a new revision
// whose controls are the preset's; environment-wide knobs such as exemptions are kept).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { ifMatchRevision, revisionEtag } from "../app/conditional.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { applyPreset, catalogue, PRESET_NAMES, presets, PssVersion, type EnvironmentSettingsInput, type PresetName } from "../policies/index.ts";
import { commitDerivedRevision } from "../services/settings.ts";
import { CommentField, EnvParams, IfMatchHeaders, NewRevisionResponse, revisionJson } from "./settings-common.ts";

const PresetNameSchema = z.enum(PRESET_NAMES as [PresetName, ...PresetName[]]).openapi("PresetName");

const Preset = z
  .object({
    name: PresetNameSchema,
    title: z.string(),
    description: z.string(),
    controls: z.array(z.string()).openapi({ description: "Ids of the controls the preset enables, in catalogue order.", example: ["privilegedContainers"] }),
  })
  .openapi("Preset");

const ApplyPresetBody = z
  .strictObject({
    preset: PresetNameSchema,
    pssVersion: PssVersion.optional().openapi({
      description:
        "The Pod Security Standards version to apply the preset at (v1.31 … v1.36, or latest), recorded in the document's pssVersion. Omitted: the document's own pssVersion, else latest.",
      example: "v1.34",
    }),
    comment: CommentField,
  })
  .openapi("ApplyPresetRequest");

// Static: computed once, in catalogue order so the list reads like the documentation.
const PRESET_LIST = PRESET_NAMES.map((name) => ({
  name,
  title: presets[name].title,
  description: presets[name].description,
  controls: catalogue.filter((c) => c.id in presets[name].controls).map((c) => c.id),
}));

export const listRoute = createRoute({
  method: "get",
  path: "/v1/presets",
  tags: ["Presets"],
  summary: "List settings presets",
  description: "The Pod Security Standards presets an environment can be set to. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  responses: {
    200: { description: "Every preset", content: { "application/json": { schema: z.array(Preset) } } },
    ...problemResponses(401, 403),
  },
});

export const applyRoute = createRoute({
  method: "post",
  path: "/v1/environments/{id}/settings/preset",
  tags: ["Presets"],
  summary: "Apply a preset to an environment",
  description:
    "Appends a revision whose `controls` are the preset's at the Pod Security Standards version `pssVersion` (or the document's, else latest), which the document records; `enforcementAction` and `exemptions` of the current revision are kept. Optional If-Match: the current revision's ETag. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: {
    params: EnvParams,
    headers: IfMatchHeaders,
    body: { required: true, content: { "application/json": { schema: ApplyPresetBody } } },
  },
  responses: {
    201: NewRevisionResponse,
    ...problemResponses(400, 401, 403, 404, 409, 412, 415),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(listRoute, (c) => c.json(PRESET_LIST, 200));

  app.openapi(applyRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { preset, pssVersion, comment } = c.req.valid("json");
    const expected = ifMatchRevision(c.req.valid("header")["if-match"], { star: true }); // a 400 before any lookup
    const stored = await c.get("db").withTenant(p.tenantId, (tx) =>
      commitDerivedRevision(tx, p, {
        environmentId: id,
        expected,
        action: "settings.preset",
        async derive(current) {
          // Stored documents are normalised output, which is also valid input.
          const base = (current?.document ?? {}) as EnvironmentSettingsInput;
          const document = applyPreset(base, preset, pssVersion);
          const at = document.pssVersion ? ` at PSS ${document.pssVersion}` : "";
          return { document, comment: comment ?? `apply preset ${preset}${at}`, detail: { preset, ...(pssVersion ? { pssVersion } : {}) } };
        },
      }),
    );
    c.header("etag", revisionEtag(stored.revision));
    c.header("location", `/v1/environments/${id}/settings/revisions/${stored.revision}`);
    return c.json(revisionJson(stored), 201);
  });
}
