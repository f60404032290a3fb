// The CEL twin of proc-mount.rego (see ../cel.ts): the same finding, word for word.
import { containerFinding, field, show, type ControlCel } from "../cel.ts";

const value = field("ct.c", "securityContext.procMount");
// anyInUserNamespace: a pod in its own user namespace (hostUsers: false) may use any procMount.
const userNamespaceExempt = `(variables.params.anyInUserNamespace == true && ${field("variables.pod", "spec.hostUsers")} == false)`;

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: `variables.params.allowed != "Default" || ${userNamespaceExempt} ? [] : variables.containers.filter(ct, !(${value} == null || ${value} == "Default")).map(ct, ${containerFinding(
        "securityContext.procMount",
        show.optionalString(value),
        "only the Default proc mount type (or leaving procMount unset) is allowed",
      )})`,
    },
  ],
};
