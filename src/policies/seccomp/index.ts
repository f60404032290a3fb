// Seccomp filters the system calls a container may make; Unconfined turns the filter off. A
// container may run only under the listed profiles, checked on the EFFECTIVE profile (the
// container's securityContext.seccompProfile, else the pod's). An unset profile runs Unconfined
// unless the kubelet's SeccompDefault is on, so it is refused unless allowUnset.
// PodSecurityPolicy's seccomp.security.alpha.kubernetes.io/allowedProfileNames.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./seccomp.cel.ts";
import { profileList } from "../apparmor/index.ts";

const Profile = z
  .string()
  .regex(/^(RuntimeDefault|Unconfined|Localhost\/(\*|[^\s*]+))$/, {
    message: "must be RuntimeDefault, Unconfined, Localhost/<file> or Localhost/*",
  })
  .refine((p) => !p.startsWith("Localhost/") || (!p.startsWith("Localhost//") && !p.split("/").includes("..")), {
    message: "a Localhost profile is a path relative to the kubelet's seccomp directory, without ..",
  });

export const SeccompOptions = z
  .strictObject({
    allowed: profileList(Profile, "Localhost/")
      .default(["Localhost/*", "RuntimeDefault"])
      .describe("seccomp profiles containers may run under: RuntimeDefault, Unconfined, Localhost/<file>, Localhost/* (any localhost profile)"),
    allowUnset: z
      .boolean()
      .default(false)
      .describe("allow containers with no seccompProfile on the container or the pod (they run Unconfined unless the kubelet's SeccompDefault is on)"),
    checkOverridden: z
      .boolean()
      .default(false)
      .describe(
        "also refuse a disallowed spec.securityContext.seccompProfile that every container overrides with its own (the Pod Security Standards check both fields); false: only the profile each container runs under counts",
      ),
  })
  .superRefine((o, ctx) => {
    if (o.allowed.length === 0 && !o.allowUnset) {
      ctx.addIssue({
        code: "custom",
        path: ["allowed"],
        message: "with allowUnset false an empty list refuses every pod; allow a profile or set allowUnset",
      });
    }
  });
export type SeccompOptions = z.output<typeof SeccompOptions>;

export const seccomp = defineControl({
  id: "seccomp",
  slug: "seccomp",
  kind: "GatehouseSeccomp",
  title: "Seccomp profiles",
  description: "Refuses containers whose effective seccompProfile (the container's, else the pod's) is not allowed, or is unset unless allowUnset.",
  options: SeccompOptions,
  parameters: z.strictObject({ allowed: z.array(z.string()), allowUnset: z.boolean(), checkOverridden: z.boolean() }),
  toParameters: (options) => {
    const o = options;
    return { allowed: o.allowed, allowUnset: o.allowUnset, checkOverridden: o.checkOverridden };
  },
  rego: controlRego("seccomp"),
  cel,
  describe: (options) => {
    const o = options;
    const list = o.allowed.length === 0 ? "none" : o.allowed.join(", ");
    const pod = o.checkOverridden ? "; the pod's profile is checked even where containers override it" : "";
    return `seccomp profiles allowed: ${list}; unset ${o.allowUnset ? "allowed" : "not allowed"}${pod}`;
  },
});
