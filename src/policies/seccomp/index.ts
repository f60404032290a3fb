// Seccomp filters the system calls a container may make; Unconfined turns the filter off. A
// container may run only under the listed profiles, checked on the EFFECTIVE profile (the
// container's securityContext.seccompProfile, else the pod's). An unset profile runs Unconfined
// unless the kubelet's SeccompDefault is on, so it is refused unless allowUnset.
// PodSecurityPolicy's seccomp.security.alpha.kubernetes.io/allowedProfileNames.
import { z } from "zod";
import { defineControl } from "../control.ts";
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
      .describe(
        "seccomp profiles containers may run under: RuntimeDefault, Unconfined, Localhost/<file>, Localhost/* (any localhost profile)",
      ),
    allowUnset: z
      .boolean()
      .default(false)
      .describe(
        "allow containers with no seccompProfile on the container or the pod (they run Unconfined unless the kubelet's SeccompDefault is on)",
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
  description:
    "Refuses containers whose effective seccompProfile (the container's, else the pod's) is not allowed, or is unset unless allowUnset.",
  options: SeccompOptions,
  parameters: z.strictObject({ allowed: z.array(z.string()), allowUnset: z.boolean() }),
  toParameters: (options) => {
    const o = options;
    return { allowed: o.allowed, allowUnset: o.allowUnset };
  },
  rego: String.raw`
findings contains f if {
	some ct in gh.containers
	p := seccomp_profile(ct)
	not seccomp_allowed(p.profile)
	why := sprintf("%sallowed seccomp profiles: %s; %s", [p.note, allowed_text, unset_text])
	f := gh.container_finding(ct, "securityContext.seccompProfile", p.profile, why)
}

allowed_seccomp := object.get(input.parameters, "allowed", [])

allow_unset := object.get(input.parameters, "allowUnset", false)

seccomp_profile(ct) := {"profile": seccomp_name(v), "note": ""} if {
	v := object.get(ct.container, ["securityContext", "seccompProfile"], null)
	v != null
} else := {"profile": seccomp_name(v), "note": "inherited from the pod's spec.securityContext.seccompProfile; "} if {
	v := object.get(gh.pod, ["spec", "securityContext", "seccompProfile"], null)
	v != null
} else := {"profile": null, "note": "no seccompProfile is set on the container or the pod; "}

# {type, localhostProfile} as one string: RuntimeDefault, Unconfined, Localhost/<file>.
seccomp_name(p) := concat("", ["Localhost/", object.get(p, "localhostProfile", "")]) if {
	p.type == "Localhost"
} else := p.type if {
	is_string(p.type)
} else := sprintf("%v", [p])

seccomp_allowed(null) if {
	allow_unset == true
}

# Windows pods cannot set a seccomp profile at all.
seccomp_allowed(null) if gh.windows_pod

seccomp_allowed(p) if {
	is_string(p)
	gh.matches_any(allowed_seccomp, p)
}

allowed_text := "none" if {
	count(allowed_seccomp) == 0
} else := concat(", ", allowed_seccomp)

unset_text := "unset is allowed" if {
	allow_unset == true
} else := "a profile must be set (unset runs Unconfined unless the kubelet enables SeccompDefault)"
`,
  describe: (options) => {
    const o = options;
    const list = o.allowed.length === 0 ? "none" : o.allowed.join(", ");
    return `seccomp profiles allowed: ${list}; unset ${o.allowUnset ? "allowed" : "not allowed"}`;
  },
});
