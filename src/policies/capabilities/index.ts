// Linux capabilities split root's power into pieces (NET_ADMIN, SYS_ADMIN, …). A container may
// add only the listed capabilities and must drop the required ones (drop ALL satisfies every
// requirement). PodSecurityPolicy's allowedCapabilities and requiredDropCapabilities.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./capabilities.cel.ts";
import { CapabilityList } from "../common/schemas.ts";

export const CapabilitiesOptions = z
  .strictObject({
    allowedAdd: CapabilityList.default([]).describe(
      "capabilities a container may list in securityContext.capabilities.add (CAP_ prefix and case are ignored); [ALL] = any; empty = none may be added",
    ),
    requiredDrop: CapabilityList.default([]).describe(
      "capabilities every container must list in securityContext.capabilities.drop; drop ALL satisfies every entry; empty = nothing must be dropped",
    ),
    names: z
      .enum(["normalised", "exact"])
      .default("normalised")
      .describe(
        "how a pod's capability names are read: normalised (cap_chown, CAP_CHOWN and CHOWN are CHOWN, as container runtimes read them) or exact (only CHOWN is CHOWN and only ALL is ALL, as the Pod Security Standards compare them)",
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
  description: "Refuses containers that add a Linux capability outside allowedAdd, or that do not drop every capability in requiredDrop.",
  options: CapabilitiesOptions,
  parameters: z.strictObject({
    allowedAdd: z.array(z.string()),
    requiredDrop: z.array(z.string()),
    exactNames: z.boolean(),
  }),
  toParameters: (options) => {
    const o = options;
    return { allowedAdd: o.allowedAdd, requiredDrop: o.requiredDrop, exactNames: o.names === "exact" };
  },
  rego: controlRego("capabilities"),
  cel,
  describe: (options) => {
    const o = options;
    const add = o.allowedAdd.includes("ALL") ? "any" : list(o.allowedAdd, "none");
    const names = o.names === "exact" ? "; names compared exactly as written" : "";
    return `capabilities that may be added: ${add}; must be dropped: ${list(o.requiredDrop, "nothing")}${names}`;
  },
});
