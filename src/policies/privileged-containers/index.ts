// Privileged containers get nearly all host capabilities and device access.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./privileged-containers.cel.ts";

export const privilegedContainers = defineControl({
  id: "privilegedContainers",
  slug: "privileged-containers",
  kind: "GatehousePrivilegedContainers",
  title: "Privileged containers",
  description: "Refuses containers that set securityContext.privileged: true.",
  options: z.strictObject({}),
  parameters: z.strictObject({}),
  toParameters: () => ({}),
  rego: controlRego("privileged-containers"),
  cel,
  describe: () => "no container may run privileged",
});
