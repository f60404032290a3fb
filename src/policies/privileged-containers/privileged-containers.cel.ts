// The CEL twin of privileged-containers.rego (see ../cel.ts): the same finding, word for word.
import { containerFinding, field, type ControlCel } from "../cel.ts";

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: `variables.containers.filter(ct, ${field("ct.c", "securityContext.privileged")} == true).map(ct, ${containerFinding(
        "securityContext.privileged",
        '"true"',
        "privileged containers are not allowed",
      )})`,
    },
  ],
};
