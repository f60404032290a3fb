// The CEL twin of sysctls.rego (see ../cel.ts): the same findings, word for word. A sysctl's
// field names its index, so the findings are built with a placeholder field and spliced.
import { podFinding, show, splice, type ControlCel } from "../cel.ts";

const p = "variables.params";
/** A glob is exact, or ends in * to match a prefix (common/gatehouse.rego `matches`). */
const matches = (g: string, s: string) => `(${g}.endsWith("*") ? ${s}.startsWith(${g}.substring(0, size(${g}) - 1)) : ${g} == ${s})`;
// Slash form (net/ipv4/conf/eth0.100/rp_filter) to dot form: where the first separator is a
// slash, dots belong to a segment, so the two swap (Rego's strings.replace_n of both at once).
const normalised = (n: string) =>
  `(${n}.indexOf("/") >= 0 && (${n}.indexOf(".") < 0 || ${n}.indexOf("/") < ${n}.indexOf(".")) ? ${n}.split("/").map(seg, seg.replace(".", "/")).join(".") : ${n})`;
const list = "variables.pod.spec.securityContext.sysctls";
const field = `"spec.securityContext.sysctls[" + string(s.i) + "].name"`;

export const cel: ControlCel = {
  variables: [
    // Each sysctl with its index and the name it is compared under.
    {
      name: "sysctlEntries",
      expression: `variables.podChecked && has(variables.pod.spec.securityContext) && has(${list}) ? ${list}.transformList(i, s, {"i": dyn(i), "raw": dyn(has(s.name) ? s.name : null)}).filter(s, type(s.raw) == string).map(s, {"i": s.i, "raw": s.raw, "name": dyn(${p}.exactNames == true ? s.raw : ${normalised("s.raw")})}) : []`,
    },
    {
      name: "sysctlAllowedTail",
      expression: `(size(${p}.allowedUnsafe) == 0 ? "" : " and " + ${p}.allowedUnsafe.join(", ")) + (size(${p}.forbidden) == 0 ? "" : ", except " + ${p}.forbidden.join(", "))`,
    },
    {
      name: "forbiddenFindings",
      expression: `variables.sysctlEntries.filter(s, ${p}.forbidden.exists(g, ${matches("g", "s.name")})).map(s, ${splice(
        podFinding("@field@", show.string("s.raw"), "@why@"),
        {
          field,
          why: `"forbidden by " + ${p}.forbidden.filter(g, ${matches("g", "s.name")}).map(g, "\\"" + g + "\\"").join(", ") + "; allowed: the Kubernetes safe sysctls" + variables.sysctlAllowedTail`,
        },
      )})`,
    },
    {
      name: "unsafeFindings",
      expression: `variables.sysctlEntries.filter(s, !${p}.forbidden.exists(g, ${matches("g", "s.name")}) && !(s.name in ${p}.safeSysctls) && !${p}.allowedUnsafe.exists(g, ${matches("g", "s.name")})).map(s, ${splice(
        podFinding("@field@", show.string("s.raw"), "@why@"),
        {
          field,
          why: `"it is neither a Kubernetes safe sysctl nor an allowed unsafe one; allowed: the Kubernetes safe sysctls (" + ${p}.safeSysctls.join(", ") + ")" + variables.sysctlAllowedTail`,
        },
      )})`,
    },
    { name: "findings", expression: "variables.forbiddenFindings + variables.unsafeFindings" },
  ],
};
