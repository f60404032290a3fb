// Which workloads Gatehouse's ExpansionTemplates expand, and where each keeps its pod template.
// One table, with no dependencies, so that expansion.ts renders the templates from it and the
// Rego library (a generated lib module) and the CEL library (a map literal) phrase a workload's
// findings from it: `Deployment team-a/web: … (spec.template.spec.containers[0], …)`.

export const EXPANSIONS = [
  {
    name: "gatehouse-pod-templates",
    applyTo: [
      { groups: ["apps"], kinds: ["DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"], versions: ["v1"] },
      { groups: [""], kinds: ["ReplicationController"], versions: ["v1"] },
      { groups: ["batch"], kinds: ["Job"], versions: ["v1"] },
    ],
    templateSource: "spec.template",
  },
  {
    name: "gatehouse-cronjob-templates",
    applyTo: [{ groups: ["batch"], kinds: ["CronJob"], versions: ["v1"] }],
    templateSource: "spec.jobTemplate.spec.template",
  },
] as const;

/**
 * `<apiVersion>/<Kind>` of each expanded workload (`apps/v1/Deployment`, `v1/ReplicationController`:
 * an ownerReference's apiVersion and kind, as the expansion writes them) → the path of its pod
 * template with a trailing dot, the prefix that turns a pod's path into the workload's:
 * `spec.hostPID` → `spec.template.spec.hostPID`.
 */
export const POD_TEMPLATE_PATHS: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(
    EXPANSIONS.flatMap((e) =>
      e.applyTo.flatMap((a) =>
        a.groups.flatMap((g) => a.versions.flatMap((v) => a.kinds.map((k) => [`${g === "" ? v : `${g}/${v}`}/${k}`, `${e.templateSource}.`] as const))),
      ),
    ).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ),
);

/**
 * The table as a Rego library module (a template's second `libs` entry), read by
 * common/gatehouse.rego as data.lib.gatehouse_workloads.pod_template_paths. Laid out as `opa fmt`
 * writes it; rego-tooling.test.ts checks it with OPA's tools like the .rego files.
 */
export const WORKLOADS_REGO_LIB = [
  "# GENERATED from src/policies/workload-paths.ts: where each expanded workload keeps its pod template.",
  "package lib.gatehouse_workloads",
  "",
  "import rego.v1",
  "",
  "pod_template_paths := {",
  ...Object.entries(POD_TEMPLATE_PATHS).map(([k, v]) => `\t${JSON.stringify(k)}: ${JSON.stringify(v)},`),
  "}",
  "",
].join("\n");
