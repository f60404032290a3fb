// Linux capabilities split root's power into pieces (NET_ADMIN, SYS_ADMIN, …). A container may
// add only the listed capabilities and must drop the required ones (drop ALL satisfies every
// requirement). PodSecurityPolicy's allowedCapabilities and requiredDropCapabilities.
import { z } from "zod";
import { defineControl } from "../control.ts";
import { CapabilityList } from "../common/schemas.ts";

export const CapabilitiesOptions = z
  .strictObject({
    allowedAdd: CapabilityList.default([]).describe(
      "capabilities a container may list in securityContext.capabilities.add (CAP_ prefix and case are ignored); [ALL] = any; empty = none may be added",
    ),
    requiredDrop: CapabilityList.default([]).describe(
      "capabilities every container must list in securityContext.capabilities.drop; drop ALL satisfies every entry; empty = nothing must be dropped",
    ),
  })
  .superRefine((o, ctx) => {
    // The runtimes apply individual drops after individual adds: a capability both allowed to be
    // added and required to be dropped can never take effect, which is almost always a mistake.
    for (const cap of o.requiredDrop) {
      if (cap !== "ALL" && o.allowedAdd.includes(cap)) {
        ctx.addIssue({
          code: "custom",
          path: ["requiredDrop"],
          message: `${cap} is also in allowedAdd: a capability that must be dropped cannot be added`,
        });
      }
    }
  });
export type CapabilitiesOptions = z.output<typeof CapabilitiesOptions>;


const list = (caps: readonly string[], empty: string) => (caps.length === 0 ? empty : caps.join(", "));

export const capabilities = defineControl({
  id: "capabilities",
  slug: "capabilities",
  kind: "GatehouseCapabilities",
  title: "Linux capabilities",
  description:
    "Refuses containers that add a Linux capability outside allowedAdd, or that do not drop every capability in requiredDrop.",
  options: CapabilitiesOptions,
  parameters: z.strictObject({
    allowedAdd: z.array(z.string()),
    requiredDrop: z.array(z.string()),
  }),
  toParameters: (options) => {
    const o = options;
    return { allowedAdd: o.allowedAdd, requiredDrop: o.requiredDrop };
  },
  rego: String.raw`
findings contains f if {
	some ct in gh.containers
	some cap in object.get(ct.container, ["securityContext", "capabilities", "add"], [])
	not add_allowed(normalise(cap))
	f := gh.container_finding(ct, "securityContext.capabilities.add", cap, add_why)
}

# One finding per container: the value is the container's own drop list (null when unset), the
# reason names every required entry it lacks.
findings contains f if {
	not gh.windows_pod # Windows pods cannot set capabilities at all
	some ct in gh.containers
	missing := [cap | some cap in required_drop; not dropped(ct, cap)]
	count(missing) > 0
	drop := object.get(ct.container, ["securityContext", "capabilities", "drop"], null)
	why := sprintf("%s missing from it; every container must drop %s (drop ALL satisfies every entry)", [missing_phrase(missing), concat(", ", required_drop)])
	f := gh.container_finding(ct, "securityContext.capabilities.drop", drop, why)
}

allowed_add := object.get(input.parameters, "allowedAdd", [])

required_drop := object.get(input.parameters, "requiredDrop", [])

# CAP_NET_ADMIN, cap_net_admin and NET_ADMIN name the same capability.
normalise(cap) := trim_prefix(upper(trim_space(cap)), "CAP_") if {
	is_string(cap)
} else := sprintf("%v", [cap])

# allowedAdd [ALL] admits anything; adding ALL itself needs allowedAdd [ALL].
add_allowed(_) if {
	"ALL" in allowed_add
}

add_allowed(cap) if {
	cap in allowed_add
}

dropped(ct, cap) if {
	some d in object.get(ct.container, ["securityContext", "capabilities", "drop"], [])
	normalise(d) in {cap, "ALL"}
}

missing_phrase(missing) := sprintf("%s is", [missing[0]]) if {
	count(missing) == 1
} else := sprintf("%s are", [concat(", ", missing)])

add_why := "no capabilities may be added" if {
	count(allowed_add) == 0
} else := sprintf("capabilities that may be added: %s", [concat(", ", allowed_add)])
`,
  describe: (options) => {
    const o = options;
    const add = o.allowedAdd.includes("ALL") ? "any" : list(o.allowedAdd, "none");
    return `capabilities that may be added: ${add}; must be dropped: ${list(o.requiredDrop, "nothing")}`;
  },
});
