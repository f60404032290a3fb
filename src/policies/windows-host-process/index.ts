// A Windows HostProcess container runs directly on the node as a host process with full
// access to the host; Pod Security Standards baseline forbids it.
import { z } from "zod";
import { defineControl } from "../control.ts";

const WHY = "Windows HostProcess containers have full access to the node and are not allowed";

export const windowsHostProcess = defineControl({
  id: "windowsHostProcess",
  slug: "windows-host-process",
  kind: "GatehouseWindowsHostProcess",
  title: "Windows HostProcess containers",
  description:
    "Refuses pods and containers that set securityContext.windowsOptions.hostProcess: true (Pod Security Standards baseline).",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: String.raw`
findings contains f if {
	gh.pod_checked
	gh.pod.spec.securityContext.windowsOptions.hostProcess == true
	f := gh.pod_finding("spec.securityContext.windowsOptions.hostProcess", true, ${JSON.stringify(WHY)})
}

findings contains f if {
	some ct in gh.containers
	ct.container.securityContext.windowsOptions.hostProcess == true
	f := gh.container_finding(ct, "securityContext.windowsOptions.hostProcess", true, ${JSON.stringify(WHY)})
}
`,
  describe: () => "no pod or container may run as a Windows HostProcess",
});
