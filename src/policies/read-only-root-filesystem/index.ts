// A writable root filesystem lets a compromised process change the container's own binaries and
// configuration and hide tools in it. This control requires every container to mount its root
// filesystem read-only; data that must be written goes to volumes (emptyDir, PVC).
import { z } from "zod";
import { defineControl } from "../control.ts";

export const readOnlyRootFilesystem = defineControl({
  id: "readOnlyRootFilesystem",
  slug: "read-only-root-filesystem",
  kind: "GatehouseReadOnlyRootFilesystem",
  title: "Read-only root filesystem",
  description:
    "Refuses containers that do not set securityContext.readOnlyRootFilesystem: true (Windows pods, which cannot set it, are skipped).",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: String.raw`
findings contains f if {
	not gh.windows_pod
	some ct in gh.containers
	value := object.get(ct.container, ["securityContext", "readOnlyRootFilesystem"], null)
	value != true
	f := gh.container_finding(ct, "securityContext.readOnlyRootFilesystem", value, read_only_why)
}

read_only_why := "the root filesystem must be read-only (set it to true; write to an emptyDir or other volume instead)"
`,
  describe: () => "every container must set readOnlyRootFilesystem: true",
});
