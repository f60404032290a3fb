// The CEL twin of host-network-ports.rego (see ../cel.ts): the same findings, word for word.
import { CT_HINT, CT_PREFIX, field, podFinding, type ControlCel } from "../cel.ts";

export const cel: ControlCel = {
  variables: [
    {
      name: "hostPortsWhy",
      expression:
        'size(variables.params.hostPorts) == 0 ? "no host ports are allowed" : "allowed host port ranges: " + variables.params.hostPorts.map(r, r.min == r.max ? string(r.min) : string(r.min) + "-" + string(r.max)).join(", ")',
    },
    {
      name: "findings",
      expression: `(variables.podChecked && ${field("variables.pod", "spec.hostNetwork")} == true && !variables.params.allowHostNetwork ? [${podFinding(
        "spec.hostNetwork",
        '"true"',
        "sharing the host network namespace is not allowed (allowHostNetwork is false)",
      )}] : []) + variables.containers.map(ct, has(ct.c.ports) ? ct.c.ports.transformList(i, p,
  has(p.hostPort) && p.hostPort != 0 && !variables.params.hostPorts.exists(r, r.min <= p.hostPort && p.hostPort <= r.max),
  ${CT_PREFIX} + "ports[" + string(i) + "].hostPort is " + string(p.hostPort) + "; " + variables.hostPortsWhy + "." + ${CT_HINT}) : []).flatten()`,
    },
  ],
};
