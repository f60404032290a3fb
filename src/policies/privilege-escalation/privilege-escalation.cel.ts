// The CEL twin of privilege-escalation.rego (see ../cel.ts): the same finding, word for word.
import { containerFinding, field, show, type ControlCel } from "../cel.ts";

const value = field("ct.c", "securityContext.allowPrivilegeEscalation");

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: `variables.windowsPod ? [] : variables.containers.filter(ct, ${value} != false).map(ct, ${containerFinding(
        "securityContext.allowPrivilegeEscalation",
        show.optionalBool(value),
        "it must be set to false (unset allows escalation through setuid binaries and file capabilities)",
      )})`,
    },
  ],
};
