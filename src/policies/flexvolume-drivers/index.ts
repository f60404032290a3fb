// FlexVolume drivers are executables on the node that the kubelet runs as root with the
// volume's options; an unvetted driver is a path to the host. This control admits flexVolume
// volumes only for the listed drivers.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./flexvolume-drivers.cel.ts";
import { sortedSet } from "../common/schemas.ts";

// Driver names are exact (`vendor/driver`, as in the flexVolume.driver field); no globs.
export const DriverName = z
  .string()
  .max(253)
  .regex(/^[^\s*]+$/, { message: "must be an exact driver name such as example.com/lvm (no spaces, no globs)" });

export const flexVolumeDrivers = defineControl({
  id: "flexVolumeDrivers",
  slug: "flexvolume-drivers",
  kind: "GatehouseFlexVolumeDrivers",
  title: "FlexVolume drivers",
  description: "Refuses flexVolume volumes whose driver is not in the allowed list.",
  options: z.strictObject({
    allowed: sortedSet(DriverName, 64).default([]).describe("flexVolume driver names pods may use (exact, e.g. example.com/lvm); empty = no flexVolume volume"),
  }),
  parameters: z.strictObject({
    allowed: z.array(z.string()),
  }),
  toParameters: (o) => ({ allowed: [...o.allowed] }),
  rego: controlRego("flexvolume-drivers"),
  cel,
  describe: (o) => (o.allowed.length === 0 ? "no flexVolume drivers" : `flexVolume drivers ${o.allowed.join(", ")}`),
});
