// The CEL twin of capabilities.rego (see ../cel.ts): the same findings, word for word.
// Capability names are normalised as the Rego does (trimmed, upper case, CAP_ prefix dropped),
// unless exactNames asks for the names as written, as the Pod Security Standards compare them.
import { containerFinding, containersWith, field, type ControlCel } from "../cel.ts";

const norm = (e: string) =>
  `(variables.params.exactNames == true ? string(${e}) : string(${e}).trim().upperAscii().startsWith("CAP_") ? string(${e}).trim().upperAscii().substring(4) : string(${e}).trim().upperAscii())`;
const add = field("ct.c", "securityContext.capabilities.add");
const drop = field("ct.c", "securityContext.capabilities.drop");
const dropList = `(${drop} == null ? [] : ct.c.securityContext.capabilities.drop)`;
const missing = `variables.params.requiredDrop.filter(r, !${dropList}.exists(d, ${norm("d")} == r || ${norm("d")} == "ALL"))`;

export const cel: ControlCel = {
  variables: [
    {
      name: "addWhy",
      expression: `size(variables.params.allowedAdd) == 0 ? "no capabilities may be added" : "capabilities that may be added: " + variables.params.allowedAdd.join(", ")`,
    },
    {
      name: "addFindings",
      expression: `"ALL" in variables.params.allowedAdd ? [] : variables.containers.map(ct, (${add} == null ? [] : ct.c.securityContext.capabilities.add).filter(cap, !(${norm("cap")} in variables.params.allowedAdd)).map(cap, ${containerFinding(
        "securityContext.capabilities.add",
        '"\\"" + string(cap) + "\\""',
        "@WHY@",
      ).replace('"; @WHY@."', '"; " + variables.addWhy + "."')})).flatten()`,
    },
    // What each container fails to drop, once per container.
    { name: "drops", expression: containersWith({ missing }) },
    {
      name: "dropFindings",
      expression: `variables.windowsPod ? [] : variables.drops.filter(ct, size(ct.missing) > 0).map(ct, ${containerFinding(
        "securityContext.capabilities.drop",
        `(${drop} == null ? "null" : "[" + ct.c.securityContext.capabilities.drop.map(d, "\\"" + string(d) + "\\"").join(",") + "]")`,
        "@WHY@",
      ).replace(
        '"; @WHY@."',
        `"; " + (size(ct.missing) == 1 ? ct.missing[0] + " is" : ct.missing.join(", ") + " are") + " missing from it; every container must drop " + variables.params.requiredDrop.join(", ") + " (drop ALL satisfies every entry)."`,
      )})`,
    },
    { name: "findings", expression: "variables.addFindings + variables.dropFindings" },
  ],
};
