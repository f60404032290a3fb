// The CEL twin of flexvolume-drivers.rego (see ../cel.ts): the same findings, word for word.
// A flexVolume without a driver is checked as driver "" and refused (fail closed), as in Rego.
import { podFindingExpr, show, type ControlCel } from "../cel.ts";

const driver = '(has(v.flexVolume.driver) ? v.flexVolume.driver : "")';

export const cel: ControlCel = {
  variables: [
    {
      name: "flexDriversWhy",
      expression:
        'size(variables.params.allowed) == 0 ? "no flexVolume drivers are allowed" : "allowed flexVolume drivers: " + variables.params.allowed.join(", ")',
    },
    {
      name: "findings",
      expression: `variables.podChecked && has(variables.pod.spec) && has(variables.pod.spec.volumes) ? variables.pod.spec.volumes.transformList(i, v,
  has(v.flexVolume) && !(${driver} in variables.params.allowed),
  ${podFindingExpr('"spec.volumes[" + string(i) + "].flexVolume.driver"', show.string(driver), "variables.flexDriversWhy")}) : []`,
    },
  ],
};
