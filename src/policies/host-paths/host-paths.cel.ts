// The CEL twin of host-paths.rego (see ../cel.ts): the same findings, word for word.
// Rego trims the pod's trailing slashes before matching per segment; CEL needs no trimming: a
// prefix other than `/` (which has no trailing slash and no empty segment) covers a path exactly
// when the path equals it or starts with it plus `/` (the rest is then either only slashes, which
// trim back to the prefix, or a deeper path); `/` covers every absolute path.
import { containerFindingExpr, field, podFindingExpr, show, type ControlCel } from "../cel.ts";

const covers = (prefix: string, path: string) => `(${prefix} == "/" ? ${path}.startsWith("/") : ${path} == ${prefix} || ${path}.startsWith(${prefix} + "/"))`;

export const cel: ControlCel = {
  variables: [
    {
      name: "hostPathsWhy",
      expression:
        'size(variables.params.allowed) == 0 ? "no hostPath volumes are allowed" : "allowed host path prefixes: " + variables.params.allowed.map(e, e.readOnly ? e.pathPrefix + " (read-only)" : e.pathPrefix).join(", ")',
    },
    // Every hostPath volume (a missing path is "" and refused: fail closed) with the entries
    // covering it; a path with a `..` segment escapes any prefix, so nothing covers it.
    {
      name: "hostPathVolumes",
      expression: `has(variables.pod.spec) && has(variables.pod.spec.volumes) ? variables.pod.spec.volumes.transformList(i, v, has(v.hostPath), {"index": dyn(i), "name": dyn(has(v.name) ? v.name : ""), "path": dyn(has(v.hostPath.path) ? v.hostPath.path : "")}).map(v, {"index": v.index, "name": v.name, "path": v.path, "covering": dyn(".." in string(v.path).split("/") ? [] : variables.params.allowed.filter(e, ${covers("e.pathPrefix", "string(v.path)")}))}) : []`,
    },
    // Volumes covered only by read-only entries: every container mounting one must mount it readOnly.
    {
      name: "readOnlyVolumes",
      expression: "variables.hostPathVolumes.filter(v, size(v.covering) > 0 && !v.covering.exists(e, !e.readOnly))",
    },
    {
      name: "findings",
      expression: `(variables.podChecked ? variables.hostPathVolumes.filter(v, size(v.covering) == 0).map(v, ${podFindingExpr(
        '"spec.volumes[" + string(v.index) + "].hostPath.path"',
        show.string("v.path"),
        "variables.hostPathsWhy",
      )}) : []) + variables.containers.map(ct, has(ct.c.volumeMounts) ? ct.c.volumeMounts.transformList(j, m,
  !(has(m.readOnly) && m.readOnly == true),
  variables.readOnlyVolumes.filter(v, has(m.name) && m.name == v.name).map(v, ${containerFindingExpr(
    '"volumeMounts[" + string(j) + "].readOnly"',
    show.optionalBool(field("m", "readOnly")),
    '"host path " + v.path + " (volume \\"" + v.name + "\\") is allowed read-only only; set readOnly: true"',
  )})) : []).flatten().flatten()`,
    },
  ],
};
