// The CEL twin of windows-host-process.rego (see ../cel.ts): the same findings, word for word.
import { containerFinding, field, podFinding, type ControlCel } from "../cel.ts";

const why = "Windows HostProcess containers have full access to the node and are not allowed";

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: `(variables.podChecked && ${field("variables.pod", "spec.securityContext.windowsOptions.hostProcess")} == true ? [${podFinding(
        "spec.securityContext.windowsOptions.hostProcess",
        '"true"',
        why,
      )}] : []) + variables.containers.filter(ct, ${field("ct.c", "securityContext.windowsOptions.hostProcess")} == true).map(ct, ${containerFinding(
        "securityContext.windowsOptions.hostProcess",
        '"true"',
        why,
      )})`,
    },
  ],
};
