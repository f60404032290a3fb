// The CEL twin of host-namespaces.rego (see ../cel.ts): the same findings, word for word.
import { field, podFinding, type ControlCel } from "../cel.ts";

const check = (spec: string, param: string, why: string) =>
  `(variables.podChecked && ${field("variables.pod", `spec.${spec}`)} == true && !variables.params.${param} ? [${podFinding(`spec.${spec}`, '"true"', why)}] : [])`;

export const cel: ControlCel = {
  variables: [
    {
      name: "findings",
      expression: [
        check("hostPID", "allowHostPID", "sharing the host PID namespace is not allowed (allowHostPID is false)"),
        check("hostIPC", "allowHostIPC", "sharing the host IPC namespace is not allowed (allowHostIPC is false)"),
      ].join(" + "),
    },
  ],
};
