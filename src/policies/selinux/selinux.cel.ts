// The CEL twin of selinux.rego (see ../cel.ts): the same findings, word for word. CEL cannot
// select a field by a computed name, so each of the four seLinuxOptions fields is spelt out.
// The value is shown as Rego's json.marshal shows the object: keys sorted, no spaces.
import { containerFindingExpr, containersWith, field, lit, podFindingExpr, type ControlCel } from "../cel.ts";

const FIELDS = ["user", "role", "type", "level"] as const;

/** Field `k` of the options `o` (null when absent) as Rego's selinux_option: unset, null and "" are "". */
const option = (o: string, k: string) => `(${o} != null && has(${o}.${k}) && ${o}.${k} != null ? string(${o}.${k}) : "")`;
const want = (k: string) => `(has(e.${k}) ? e.${k} : "")`;
/** Sets some field, and no allowed entry matches (an entry's "*" matches anything, an omitted field only unset). */
const refused = (o: string) =>
  `((${FIELDS.map((k) => `${option(o, k)} != ""`).join(" || ")}) && !variables.params.allowed.exists(e, ${FIELDS.map((k) => `(${want(k)} == "*" || ${want(k)} == ${option(o, k)})`).join(" && ")}))`;
/** json.marshal of the options object: present keys in sorted order, strings quoted. */
const json = (o: string) =>
  `"{" + (${[...FIELDS]
    .sort()
    .map((k) => `(has(${o}.${k}) ? [${JSON.stringify(`"${k}":`)} + (${o}.${k} == null ? "null" : "\\"" + string(${o}.${k}) + "\\"")] : [])`)
    .join(" + ")}).join(",") + "}"`;

export const cel: ControlCel = {
  variables: [
    {
      name: "seLinuxWhy",
      expression: `size(variables.params.allowed) == 0 ? "seLinuxOptions may not set user, role, type or level" : "allowed seLinuxOptions (a field not listed must be unset, * is any value): " + variables.params.allowed.map(e, "{" + (${FIELDS.map((k) => `(has(e.${k}) ? [${JSON.stringify(`${k}: `)} + e.${k}] : [])`).join(" + ")}).join(", ") + "}").join(", ")`,
    },
    { name: "podSeLinux", expression: field("variables.pod", "spec.securityContext.seLinuxOptions") },
    { name: "seLinuxContainers", expression: containersWith({ opts: field("ct.c", "securityContext.seLinuxOptions") }) },
    {
      name: "findings",
      expression: `(variables.podChecked && ${refused("variables.podSeLinux")} ? [${podFindingExpr(
        lit("spec.securityContext.seLinuxOptions"),
        json("variables.podSeLinux"),
        "variables.seLinuxWhy",
      )}] : []) + variables.seLinuxContainers.filter(ct, ${refused("ct.opts")}).map(ct, ${containerFindingExpr(
        lit("securityContext.seLinuxOptions"),
        json("ct.opts"),
        "variables.seLinuxWhy",
      )})`,
    },
  ],
};
