// Sysctls set kernel parameters for the pod's namespaces. Only a few are namespaced and isolated
// from other pods (the Kubernetes "safe" set); the rest can affect the node or its neighbours.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";

/** The sysctls Kubernetes considers safe (namespaced, isolated); Pod Security Standards baseline. */
export const SAFE_SYSCTLS = [
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.ping_group_range",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_syncookies",
] as const;

export const SysctlGlob = z
  .string()
  .min(1, { message: "must not be empty", abort: true })
  .max(256)
  .regex(/^(\*|[a-z0-9_./-]+\*?)$/, {
    message: "must be a sysctl name (a-z 0-9 _ . - /), optionally ending in * to match a prefix (kernel.* or *)",
  });

/** Distinct globs; sorted by the options transform (after cross-checks that cite input positions). */
const Globs = z
  .array(SysctlGlob)
  .max(256)
  .superRefine((list, ctx) => {
    list.forEach((v, i) => {
      const first = list.indexOf(v);
      if (first !== i) ctx.addIssue({ code: "custom", path: [i], message: `duplicate of entry ${first} ("${v}")` });
    });
  });

/** Does glob `outer` match every name glob `inner` matches? */
export function covers(outer: string, inner: string): boolean {
  if (!outer.endsWith("*")) return outer === inner;
  return inner.startsWith(outer.slice(0, -1));
}

export const SysctlsOptions = z
  .strictObject({
    forbidden: Globs.default([]).describe(
      "sysctls refused even if safe or allowed below (globs; dot form); empty = nothing extra forbidden",
    ),
    allowedUnsafe: Globs.default([]).describe(
      "sysctls outside the Kubernetes safe set that pods may set (globs; dot form); empty = only the safe set",
    ),
  })
  .superRefine((o, ctx) => {
    o.allowedUnsafe.forEach((a, i) => {
      const f = o.forbidden.find((g) => covers(g, a));
      if (f !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: ["allowedUnsafe", i],
          message: `"${a}" can never apply: forbidden glob "${f}" covers it (forbidden wins)`,
        });
      }
    });
  })
  .transform((o) => ({ forbidden: [...o.forbidden].sort(), allowedUnsafe: [...o.allowedUnsafe].sort() }));
export type SysctlsOptions = z.output<typeof SysctlsOptions>;


export const sysctls = defineControl({
  id: "sysctls",
  slug: "sysctls",
  kind: "GatehouseSysctls",
  title: "Sysctls",
  description:
    "Refuses pods whose spec.securityContext.sysctls name a forbidden sysctl, or one outside the Kubernetes safe set that is not explicitly allowed.",
  options: SysctlsOptions,
  parameters: z.strictObject({
    safeSysctls: z.array(z.string()),
    forbidden: z.array(z.string()),
    allowedUnsafe: z.array(z.string()),
  }),
  toParameters: (o) => ({ safeSysctls: [...SAFE_SYSCTLS], forbidden: o.forbidden, allowedUnsafe: o.allowedUnsafe }),
  rego: controlRego("sysctls"),
  describe: (o) => {
    const unsafe = o.allowedUnsafe.length === 0 ? "" : ` plus ${o.allowedUnsafe.join(", ")}`;
    const forbidden = o.forbidden.length === 0 ? "" : `, except ${o.forbidden.join(", ")}`;
    return `sysctls: the Kubernetes safe set${unsafe}${forbidden}`;
  },
});
