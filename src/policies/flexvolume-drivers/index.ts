// FlexVolume drivers are executables on the node that the kubelet runs as root with the
// volume's options; an unvetted driver is a path to the host. This control admits flexVolume
// volumes only for the listed drivers.
import { z } from "zod";
import { defineControl } from "../control.ts";
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
    allowed: sortedSet(DriverName, 64)
      .default([])
      .describe("flexVolume driver names pods may use (exact, e.g. example.com/lvm); empty = no flexVolume volume"),
  }),
  parameters: z.strictObject({
    allowed: z.array(z.string()),
  }),
  toParameters: (o) => ({ allowed: [...o.allowed] }),
  rego: String.raw`
allowed_flex_drivers := object.get(input.parameters, "allowed", [])

# A flexVolume without a driver gets "" and is refused (fail closed).
findings contains f if {
	gh.pod_checked
	some i, v in object.get(gh.pod, ["spec", "volumes"], [])
	is_object(v.flexVolume)
	driver := object.get(v.flexVolume, "driver", "")
	not driver in allowed_flex_drivers
	f := gh.pod_finding(sprintf("spec.volumes[%d].flexVolume.driver", [i]), driver, flex_drivers_why)
}

flex_drivers_why := "no flexVolume drivers are allowed" if {
	count(allowed_flex_drivers) == 0
} else := sprintf("allowed flexVolume drivers: %s", [concat(", ", allowed_flex_drivers)])
`,
  describe: (o) => (o.allowed.length === 0 ? "no flexVolume drivers" : `flexVolume drivers ${o.allowed.join(", ")}`),
});
