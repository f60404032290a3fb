// The CEL side of a control: what a ConstraintTemplate's `K8sNativeValidation` code entry holds,
// so the API server itself can refuse a pod (Gatekeeper generates a ValidatingAdmissionPolicy
// from it). This file is the CEL twin of common/gatehouse.rego: it walks every container kind,
// applies the image exemptions and phrases each finding word for word as the Rego does, so a
// refused user reads the same message whichever engine refused them.
//
// A control's own CEL lives beside its Rego (`<slug>/<slug>.cel.ts`) and only defines the
// variable `findings`: a list of finding texts built with containerFinding / podFinding below.
// Every template then has a single validation, "no findings", whose message is all of them.
//
// What CEL here cannot do, and why it does not need to: exemption expiry is decided when the
// settings are rendered (an expired exemption is not in the constraint), for Rego and CEL
// alike; namespace exemptions are the constraint's match.excludedNamespaces, which Gatekeeper
// turns into a match condition of the generated policy with the same `*` prefix globs.
import { POD_TEMPLATE_PATHS } from "./workload-paths.ts";

/** One CEL variable; `variables.<name>` in later expressions. */
export interface CelVariable {
  name: string;
  expression: string;
}

/** A control's CEL: variables ending with `findings` (list of strings). */
export interface ControlCel {
  variables: readonly CelVariable[];
}

/** A CEL string literal (JSON's escaping is valid CEL for the characters we use). */
export const lit = (s: string): string => JSON.stringify(s);

/** The value as Rego's json.marshal shows it, for a CEL expression of a known shape. */
export const show = {
  bool: (e: string) => `string(${e})`,
  int: (e: string) => `string(${e})`,
  string: (e: string) => `"\\"" + ${e} + "\\""`,
  /** A string that may be absent (null in Rego): `null` or the quoted string. */
  optionalString: (e: string) => `(${e} == null ? "null" : "\\"" + string(${e}) + "\\"")`,
  /** A bool that may be absent (null in Rego). */
  optionalBool: (e: string) => `(${e} == null ? "null" : string(${e}))`,
};

/** `c.<path>` of a container map, or null when any step is absent (Rego's object.get). */
export function field(base: string, path: string): string {
  const steps = path.split(".");
  const guards = steps.map((_, i) => `has(${[base, ...steps.slice(0, i + 1)].join(".")})`);
  return `(${guards.join(" && ")} ? ${[base, ...steps].join(".")} : null)`;
}

/**
 * The text of a finding about a container `ct` (an element of variables.containers):
 * `pod ns/name: container "app" (containers[0], image …): <field> is <value>; <why>. To allow it, …`
 * (`Deployment ns/web: container "app" (spec.template.spec.containers[0], …` for a workload's pod
 * template); `field` is the path in the container.
 */
export function containerFinding(field: string, valueExpr: string, why: string): string {
  return `${CT_PREFIX} + ${lit(`${field} is `)} + ${valueExpr} + ${lit(`; ${why}.`)} + ${CT_HINT}`;
}

// Built only for a container with a finding: a passing pod costs no string building.
/** `pod ns/name: container "app" (containers[0], image …): ` for `ct` (or the workload's, see podFinding). */
export const CT_PREFIX =
  'variables.subject + ": " + (ct.kind == "initContainers" ? "init container" : ct.kind == "ephemeralContainers" ? "ephemeral container" : "container") + " \\"" + ct.c.name + "\\" (" + variables.containersPath + ct.kind + "[" + string(ct.index) + "], image " + (has(ct.c.image) ? ct.c.image : "<none>") + "): "';
/** ` To allow it, exempt namespace "…" or image "…" in Gatehouse control <slug>.` for `ct`. */
export const CT_HINT =
  '(ct.image != "" ? " To allow it, exempt namespace \\"" + variables.podNamespace + "\\" or image \\"" + ct.image + "\\"" : " To allow it, exempt namespace \\"" + variables.podNamespace + "\\"") + variables.hintTail';

/**
 * `variables.containers` with per-container values computed once (CEL has no local bindings):
 * each element keeps the fields containerFinding reads, plus `extra`'s.
 */
export function containersWith(extra: Record<string, string>): string {
  const fields = Object.entries(extra)
    .map(([k, e]) => `, ${JSON.stringify(k)}: dyn(${e})`)
    .join("");
  return `variables.containers.map(ct, {"kind": ct.kind, "index": ct.index, "c": ct.c, "image": ct.image${fields}})`;
}

/**
 * The text of a finding about a pod-level field (`spec.hostPID`, the path in the pod): for a
 * workload's pod template the path in the workload (`spec.template.spec.hostPID`); a field that is
 * no path in the pod (an annotation key) is shown as it is, as in common/gatehouse.rego. Decided
 * when the finding is built, so that a field computed in CEL and spliced into the literal
 * (`spec.volumes[" + string(i) + "]…`) gets the prefix too; the one-element map binds the text once.
 */
export function podFinding(field: string, valueExpr: string, why: string): string {
  const path = `[${lit(`${field} is `)}].map(ghField, ghField.startsWith("spec.") || ghField.startsWith("metadata.") ? variables.podPath + ghField : ghField)[0]`;
  return `variables.subject + ": " + ${path} + ${valueExpr} + ${lit(`; ${why}.`)} + variables.podHint`;
}

/**
 * A pod field named in a finding's reason, as a CEL string expression: `the pod's <field>`, or in a
 * workload `the pod template's spec.template.<field>` (its path there), as common/gatehouse.rego's
 * pod_field_ref; `field` is the path in the pod (`spec.securityContext.runAsUser`).
 */
export function podFieldRef(field: string): string {
  return `(variables.podPath != "" ? "the pod template's " + variables.podPath : "the pod's ") + ${lit(field)}`;
}

const KINDS = ["containers", "initContainers", "ephemeralContainers"];

/** A CEL map literal of strings. */
const celMap = (m: Readonly<Record<string, string>>) =>
  `{${Object.entries(m)
    .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
    .join(", ")}}`;

/** The variables every control's CEL can use (common/gatehouse.rego's rules, one for one). */
function library(slug: string): CelVariable[] {
  const control = lit(` in Gatehouse control ${slug}.`);
  return [
    { name: "pod", expression: "variables.anyObject" },
    {
      name: "exemptImages",
      expression: "variables.params != null && has(variables.params.exemptImages) ? variables.params.exemptImages : []",
    },
    // Admission requests carry the namespace even when the object's metadata omits it.
    {
      name: "podNamespace",
      expression:
        'has(request.namespace) && request.namespace != "" ? request.namespace : (has(variables.pod.metadata.namespace) ? variables.pod.metadata.namespace : "")',
    },
    {
      name: "podName",
      expression:
        'has(variables.pod.metadata.name) && variables.pod.metadata.name != "" ? variables.pod.metadata.name : (has(variables.pod.metadata.generateName) && variables.pod.metadata.generateName != "" ? variables.pod.metadata.generateName + "*" : "<unnamed>")',
    },
    {
      name: "podRef",
      expression: 'variables.podNamespace != "" ? variables.podNamespace + "/" + variables.podName : variables.podName',
    },
    // A workload's pod template, as Gatekeeper's expansion reviews it (common/gatehouse.rego
    // `workload`): named <workload>-pod, with the workload's ownerReference and no uid.
    { name: "podTemplatePaths", expression: celMap(POD_TEMPLATE_PATHS) },
    {
      name: "workloads",
      expression:
        'has(variables.pod.metadata.ownerReferences) && has(variables.pod.metadata.name) ? variables.pod.metadata.ownerReferences.filter(r, has(r.apiVersion) && has(r.kind) && has(r.name) && (!has(r.uid) || r.uid == "") && (r.name + "-pod").lowerAscii() == variables.pod.metadata.name && (r.apiVersion + "/" + r.kind) in variables.podTemplatePaths) : []',
    },
    {
      name: "subject",
      expression:
        'size(variables.workloads) > 0 ? variables.workloads[0].kind + " " + (variables.podNamespace != "" ? variables.podNamespace + "/" : "") + variables.workloads[0].name : "pod " + variables.podRef',
    },
    {
      name: "podPath",
      expression: 'size(variables.workloads) > 0 ? variables.podTemplatePaths[variables.workloads[0].apiVersion + "/" + variables.workloads[0].kind] : ""',
    },
    { name: "containersPath", expression: 'variables.podPath != "" ? variables.podPath + "spec." : ""' },
    { name: "hintTail", expression: control },
    { name: "podHint", expression: '" To allow it, exempt namespace \\"" + variables.podNamespace + "\\"" + variables.hintTail' },
    // Every container of every kind. CEL literals must be homogeneous, hence dyn().
    {
      name: "allContainers",
      expression: `${JSON.stringify(KINDS)}.map(k, has(variables.pod.spec) && k in variables.pod.spec ? variables.pod.spec[k].transformList(i, c, {"kind": dyn(k), "index": dyn(i), "c": c, "image": dyn(has(c.image) ? c.image : "")}) : []).flatten()`,
    },
    // A pattern is exact, or ends in * to match a prefix (common/gatehouse.rego `matches`).
    {
      name: "containers",
      expression:
        'variables.allContainers.filter(ct, !variables.exemptImages.exists(p, p.endsWith("*") ? ct.image.startsWith(p.substring(0, size(p) - 1)) : p == ct.image))',
    },
    // Pod-level fields are checked unless every container's image is exempt.
    { name: "podChecked", expression: "size(variables.containers) > 0" },
    {
      name: "windowsPod",
      expression: 'has(variables.pod.spec) && has(variables.pod.spec.os) && has(variables.pod.spec.os.name) && variables.pod.spec.os.name == "windows"',
    },
  ];
}

/** The API server drops a messageExpression result longer than this (bytes) for the bare `message`. */
export const MAX_MESSAGE_BYTES = 5 * 1024;
/** What ends a message cut to fit MAX_MESSAGE_BYTES. */
export const cutNote = (n: string, slug: string) => ` (and ${n} more findings of Gatehouse control ${slug}, cut to fit the API server's 5 KiB message limit)`;

// The message: every finding, one space between, as long as that fits the API server's limit
// (a pod adding a dozen capabilities in two containers exceeds it, and the refusal would read only
// "refused by …"); else the leading findings that fit, whole, and how many more there are.
// Evaluated only for a refused object (variables are lazy).
function messageVariables(slug: string): CelVariable[] {
  const budget = MAX_MESSAGE_BYTES - new TextEncoder().encode(cutNote("999999", slug)).length;
  // Each finding's bytes plus its separating space, counted once; the messages that fit have at most budget + 1.
  return [
    { name: "findingBytes", expression: "variables.findings.map(f, size(bytes(f)) + 1)" },
    {
      name: "shownFindings",
      expression: `variables.findings.transformList(i, f, variables.findingBytes.slice(0, i + 1).sum() <= ${budget + 1}, f)`,
    },
    {
      name: "findingsMessage",
      expression: `variables.findingBytes.sum() <= ${budget + 1} ? variables.findings.join(" ") : variables.shownFindings.join(" ") + ${cutNote("@N@", slug)
        .split("@N@")
        .map(lit)
        .join(" + string(size(variables.findings) - size(variables.shownFindings)) + ")}`,
    },
  ];
}

// CEL's reserved words: the API server refuses a ValidatingAdmissionPolicy with a variable named
// after one ("must be a valid CEL identifier"), though gator evaluates it happily.
const RESERVED = new Set("as break const continue else false for function if import in let loop namespace null package return true var void while".split(" "));

/** The `source` of a template's K8sNativeValidation code entry. */
export function celSource(slug: string, cel: ControlCel, generateVAP: boolean): Record<string, unknown> {
  const last = cel.variables.at(-1);
  if (last?.name !== "findings") throw new Error(`${slug}: its CEL must end with the variable findings`);
  const variables = [...library(slug), ...cel.variables];
  const bad = variables.find((v) => RESERVED.has(v.name) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.name));
  if (bad) throw new Error(`${slug}: CEL variable ${bad.name} is not a valid CEL identifier`);
  return {
    variables: [...variables, ...messageVariables(slug)].map((v) => ({ name: v.name, expression: v.expression })),
    validations: [
      {
        expression: "size(variables.findings) == 0",
        messageExpression: "variables.findingsMessage",
        // Shown only if the message expression fails.
        message: `refused by Gatehouse control ${slug}`,
      },
    ],
    generateVAP,
  };
}

/**
 * A finding whose field or reason is computed in CEL (a sysctl's index, an annotation's key):
 * build it with containerFinding / podFinding and a placeholder `@name@` where the field or
 * reason goes, then splice the expressions in. The placeholders sit inside the helpers' string
 * literals, so each becomes `" + (expr) + "` there; the finding's shape stays the helpers'.
 */
export function splice(finding: string, exprs: Record<string, string>): string {
  let out = finding;
  for (const [name, expr] of Object.entries(exprs)) {
    const mark = `@${name}@`;
    if (!out.includes(mark)) throw new Error(`splice: no ${mark} in the finding`);
    out = out.replaceAll(mark, `" + (${expr}) + "`);
  }
  return out;
}

/** containerFinding with the field and the reason as CEL string expressions (e.g. an index in the field). */
export function containerFindingExpr(fieldExpr: string, valueExpr: string, whyExpr: string): string {
  return splice(containerFinding("@FIELD@", valueExpr, "@WHY@"), { FIELD: fieldExpr, WHY: whyExpr });
}

/** podFinding with the field and the reason as CEL string expressions (e.g. `spec.volumes[<i>]…`). */
export function podFindingExpr(fieldExpr: string, valueExpr: string, whyExpr: string): string {
  return splice(podFinding("@FIELD@", valueExpr, "@WHY@"), { FIELD: fieldExpr, WHY: whyExpr });
}
