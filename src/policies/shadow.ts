// Shadow constraints: a draft's constraints as Gatekeeper objects that can only observe. Gatekeeper's
// audit evaluates them against every live object, which is the draft's preview; they never refuse
// or warn at admission (always enforcementAction dryrun), carry distinct names (preview-<draft>-<version>-)
// and the shadow label, and use the same ConstraintTemplates as the current revision.
import { SHADOW_LABEL, shadowName } from "../protocol/agent.ts";
import { renderEnvironment } from "./environment.ts";
import { contentHash } from "./hash.ts";
import { HASH_ANNOTATION, type K8sObject } from "./render.ts";
import type { EnvironmentSettings } from "./settings.ts";

const TEMPLATE_API = "templates.gatekeeper.sh/v1";
const CONSTRAINT_API = "constraints.gatekeeper.sh/v1beta1";

export interface ShadowDraft {
  id: string;
  version: number;
  document: EnvironmentSettings;
}

/** One draft's objects: the templates its constraints need, and the constraints as shadows. */
export function renderShadow(draft: ShadowDraft, now: Date): { templates: K8sObject[]; constraints: K8sObject[]; expansions: K8sObject[] } {
  const { objects } = renderEnvironment(draft.document, now);
  const constraints = objects
    .filter((o) => o.apiVersion === CONSTRAINT_API)
    .map((o) => {
      const { [HASH_ANNOTATION]: _, ...annotations } = o.metadata.annotations;
      const shadow: K8sObject = {
        ...o,
        metadata: {
          ...o.metadata,
          name: shadowName(draft.id, draft.version, o.metadata.name),
          labels: { ...o.metadata.labels, [SHADOW_LABEL]: draft.id },
          annotations,
        },
        spec: { ...o.spec, enforcementAction: "dryrun" },
      };
      shadow.metadata.annotations = { ...annotations, [HASH_ANNOTATION]: contentHash(shadow) };
      return shadow;
    });
  return {
    templates: objects.filter((o) => o.apiVersion === TEMPLATE_API),
    constraints,
    expansions: objects.filter((o) => o.apiVersion !== TEMPLATE_API && o.apiVersion !== CONSTRAINT_API),
  };
}

/**
 * The current revision's objects plus every draft's shadows, still in apply order (templates,
 * constraints, expansion templates). A template or expansion template appears once: a draft that
 * needs a template the current revision does not apply adds it, so its shadow has its CRD.
 */
export function withShadows(current: readonly K8sObject[], drafts: readonly ShadowDraft[], now: Date): K8sObject[] {
  if (drafts.length === 0) return [...current];
  const byApi = (api: string) => current.filter((o) => o.apiVersion === api);
  const templates = new Map(byApi(TEMPLATE_API).map((o) => [o.metadata.name, o]));
  const expansions = new Map(current.filter((o) => o.apiVersion !== TEMPLATE_API && o.apiVersion !== CONSTRAINT_API).map((o) => [o.metadata.name, o]));
  const constraints = byApi(CONSTRAINT_API);
  for (const d of drafts) {
    const s = renderShadow(d, now);
    for (const t of s.templates) if (!templates.has(t.metadata.name)) templates.set(t.metadata.name, t);
    for (const e of s.expansions) if (!expansions.has(e.metadata.name)) expansions.set(e.metadata.name, e);
    constraints.push(...s.constraints);
  }
  // The current revision's objects keep their order; a draft's extra templates follow them.
  return [...templates.values(), ...constraints, ...expansions.values()];
}
