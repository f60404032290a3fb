// A writable root filesystem lets a compromised process change the container's own binaries and
// configuration and hide tools in it. This control requires every container to mount its root
// filesystem read-only; data that must be written goes to volumes (emptyDir, PVC).
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./read-only-root-filesystem.cel.ts";

export const readOnlyRootFilesystem = defineControl({
  id: "readOnlyRootFilesystem",
  slug: "read-only-root-filesystem",
  kind: "GatehouseReadOnlyRootFilesystem",
  title: "Read-only root filesystem",
  description: "Refuses containers that do not set securityContext.readOnlyRootFilesystem: true (Windows pods, which cannot set it, are skipped).",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: controlRego("read-only-root-filesystem"),
  cel,
  describe: () => "every container must set readOnlyRootFilesystem: true",
});
