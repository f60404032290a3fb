// Privileged containers get nearly all host capabilities and device access.
import { z } from "zod";
import { defineControl } from "../control.ts";

export const privilegedContainers = defineControl({
  id: "privilegedContainers",
  slug: "privileged-containers",
  kind: "GatehousePrivilegedContainers",
  title: "Privileged containers",
  description: "Refuses containers that set securityContext.privileged: true.",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: String.raw`
findings contains f if {
	some ct in gh.containers
	ct.container.securityContext.privileged == true
	f := gh.container_finding(ct, "securityContext.privileged", true, "privileged containers are not allowed")
}
`,
  describe: () => "no container may run privileged",
});
