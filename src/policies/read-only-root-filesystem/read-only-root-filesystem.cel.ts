// The CEL twin of read-only-root-filesystem.rego (see ../cel.ts): the same finding, word for word.
import { containerFinding, field, show, type ControlCel } from "../cel.ts";

const value = field("ct.c", "securityContext.readOnlyRootFilesystem");

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: `variables.windowsPod ? [] : variables.containers.filter(ct, ${value} != true).map(ct, ${containerFinding(
        "securityContext.readOnlyRootFilesystem",
        show.optionalBool(value),
        "the root filesystem must be read-only (set it to true; write to an emptyDir or other volume instead)",
      )})`,
    },
  ],
};
