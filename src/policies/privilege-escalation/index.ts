// allowPrivilegeEscalation controls the no_new_privs flag: unless it is false, a process in the
// container can gain more privileges than its parent (setuid binaries, file capabilities).
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./privilege-escalation.cel.ts";

export const privilegeEscalation = defineControl({
  id: "privilegeEscalation",
  slug: "privilege-escalation",
  kind: "GatehousePrivilegeEscalation",
  title: "Privilege escalation",
  description:
    "Refuses containers that do not set securityContext.allowPrivilegeEscalation: false (unset means allowed). Windows pods (spec.os.name: windows) are not checked, as in the Pod Security Standards.",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: controlRego("privilege-escalation"),
  cel,
  describe: () => "every container must set allowPrivilegeEscalation: false (Windows pods excepted)",
});
