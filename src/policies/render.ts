// Settings of one control → its Gatekeeper ConstraintTemplate and Constraint. Pure and
// deterministic: same control, settings and clock → byte-identical objects.
import { z } from "zod";
import { REGO_LIB, type AnyControl } from "./control.ts";
import { celSource } from "./cel.ts";
import { activePatterns, type Exemptions, type EnforcementAction, type EnforcementPoint } from "./common/knobs.ts";
import { contentHash } from "./hash.ts";
import { WORKLOADS_REGO_LIB } from "./workload-paths.ts";
import { CONTENT_HASH_ANNOTATION, CONTROL_LABEL, MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../protocol/agent.ts";

// The wire names are defined once, in the agent protocol; the renderer writes what the agent reads.
export { CONTROL_LABEL };
export const MANAGED_BY = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE } as const;
export const HASH_ANNOTATION = CONTENT_HASH_ANNOTATION;

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
  spec: Record<string, unknown>;
};

/** What one control is set to in an environment, after validation and defaults. */
export interface ResolvedControlSettings {
  enforcementAction: EnforcementAction;
  exemptions: Exemptions;
  options: unknown;
  /** Absent: webhook (what every document meant before there was a choice). */
  enforcementPoint?: EnforcementPoint | undefined;
}

export const templateName = (c: AnyControl) => c.kind.toLowerCase();
export const constraintName = (c: AnyControl) => c.slug;

function labels(c: AnyControl): Record<string, string> {
  return { ...MANAGED_BY, [CONTROL_LABEL]: c.slug };
}

/** Adds the content-hash annotation over everything else in the object. */
function sealed(obj: K8sObject): K8sObject {
  obj.metadata.annotations[HASH_ANNOTATION] = contentHash(obj);
  return obj;
}

// A template depends only on the control (its Rego, CEL and parameter schema) and on whether
// the API server enforces it, never on other settings: render each variant once, share it frozen.
const templates = new WeakMap<AnyControl, K8sObject>();
const celTemplates = new WeakMap<AnyControl, K8sObject>();

/**
 * The control's template. For the webhook alone it carries only Rego: Gatekeeper (v3.23, CEL
 * engine on by default) evaluates a template's CEL instead of its Rego whenever it has both,
 * and generates a ValidatingAdmissionPolicy from it by default — so CEL is added exactly when
 * the API server is to enforce the control, with generateVAP: true.
 */
export function renderTemplate(c: AnyControl, point: EnforcementPoint = "webhook"): K8sObject {
  const withCel = point !== "webhook";
  const cache = withCel ? celTemplates : templates;
  let t = cache.get(c);
  if (!t) {
    t = deepFreeze(buildTemplate(c, withCel));
    cache.set(c, t);
  }
  return t;
}

/** Gatekeeper's names for where a scoped constraint is enforced (pkg/util/enforcement_action.go). */
export const GATEKEEPER_ENFORCEMENT_POINTS = {
  webhook: "validation.gatekeeper.sh",
  vap: "vap.k8s.io",
  audit: "audit.gatekeeper.sh",
  gator: "gator.gatekeeper.sh",
} as const;

/** What a constraint's spec says about where and how it is enforced. */
function enforcement(action: EnforcementAction, point: EnforcementPoint | undefined): Record<string, unknown> {
  if (point === undefined || point === "webhook") return { enforcementAction: action };
  const P = GATEKEEPER_ENFORCEMENT_POINTS;
  // Audit keeps recording violations and gator keeps answering `gator test` of rendered output.
  const names = point === "both" ? [P.webhook, P.vap, P.audit, P.gator] : [P.vap, P.audit, P.gator];
  return { enforcementAction: "scoped", scopedEnforcementActions: [{ action, enforcementPoints: names.map((name) => ({ name })) }] };
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

// Gatekeeper (v3.23) compiles a template's `rego` and `libs` as Rego v0 and refuses every import
// but data.lib.* and future.* ("invalid import: bad import: rego.v1"). The .rego files import
// rego.v1 and are checked by opa as valid in both Rego versions; the future.keywords imports
// give v0 the same keywords, so the module means the same in the cluster.
const REGO_V1_IMPORT = "\nimport rego.v1\n";
const FUTURE_KEYWORDS = ["contains", "every", "if", "in"].map((k) => `import future.keywords.${k}`).join("\n");

/** A Gatehouse .rego module as Gatekeeper's Rego v0 compiler takes it. */
export function forGatekeeper(rego: string): string {
  if (!rego.includes(REGO_V1_IMPORT)) throw new Error("a Gatehouse Rego module must import rego.v1");
  return rego.replace(REGO_V1_IMPORT, `\n${FUTURE_KEYWORDS}\n`);
}

function buildTemplate(c: AnyControl, withCel: boolean): K8sObject {
  const name = templateName(c);
  if (withCel && !c.cel) throw new Error(`${c.slug} has no CEL: the API server cannot enforce it`);
  const target: Record<string, unknown> = {
    target: "admission.k8s.gatekeeper.sh",
    rego: forGatekeeper(c.rego),
    libs: [forGatekeeper(REGO_LIB), forGatekeeper(WORKLOADS_REGO_LIB)],
  };
  // Gatekeeper turns rego/libs into the code entry of engine Rego beside this one.
  if (withCel) target.code = [{ engine: "K8sNativeValidation", source: celSource(c.slug, c.cel!, true) }];
  return sealed({
    apiVersion: "templates.gatekeeper.sh/v1",
    kind: "ConstraintTemplate",
    metadata: {
      name,
      labels: labels(c),
      annotations: { "metadata.gatekeeper.sh/title": c.title, description: c.description },
    },
    spec: {
      crd: {
        spec: {
          names: { kind: c.kind },
          // legacySchema: false is what the API server defaults it to; saying it keeps the
          // stored spec identical to ours, so the agent's drift check sees no difference.
          validation: { legacySchema: false, openAPIV3Schema: parametersSchema(c) },
        },
      },
      targets: [target],
    },
  });
}

export function renderConstraint(c: AnyControl, settings: ResolvedControlSettings, environmentExemptions: Exemptions, now: Date): K8sObject {
  const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort();
  const excludedNamespaces = union(activePatterns(environmentExemptions.namespaces, now), activePatterns(settings.exemptions.namespaces, now));
  const exemptImages = union(activePatterns(environmentExemptions.images, now), activePatterns(settings.exemptions.images, now));
  const parameters = fullParameters(c).parse({ ...c.toParameters(settings.options), exemptImages });
  const match: Record<string, unknown> = { kinds: [{ apiGroups: [""], kinds: ["Pod"] }] };
  if (excludedNamespaces.length > 0) match.excludedNamespaces = excludedNamespaces;
  return sealed({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: c.kind,
    metadata: {
      name: constraintName(c),
      labels: labels(c),
      annotations: { "metadata.gatekeeper.sh/title": c.title, description: c.describe(settings.options) },
    },
    spec: { ...enforcement(settings.enforcementAction, settings.enforcementPoint), match, parameters },
  });
}

/** Every control's parameters carry the shared image exemptions. */
const withCommon = new WeakMap<AnyControl, z.ZodObject>();
function fullParameters(c: AnyControl): z.ZodObject {
  let schema = withCommon.get(c);
  if (!schema) {
    schema = c.parameters.extend({ exemptImages: z.array(z.string()) });
    withCommon.set(c, schema);
  }
  return schema;
}

/** The constraint CRD schema: the control's parameters plus the shared `exemptImages`. */
export function parametersSchema(c: AnyControl): Record<string, unknown> {
  const json = z.toJSONSchema(fullParameters(c), { target: "openapi-3.0", io: "input" }) as Record<string, unknown>;
  return structural(json) as Record<string, unknown>;
}

// Kubernetes wants a structural schema: no additionalProperties beside properties, and no
// JavaScript safe-integer bounds that zod adds to every int.
function structural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(structural);
  if (node === null || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "additionalProperties" || k === "$schema") continue;
    if ((k === "minimum" || k === "maximum") && Math.abs(v as number) >= Number.MAX_SAFE_INTEGER) continue;
    out[k] = structural(v);
  }
  return out;
}
