// Sysctls set kernel parameters for the pod's namespaces. Only a few are namespaced and isolated
// from other pods (the Kubernetes "safe" set); the rest can affect the node or its neighbours.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { PssVersion, pssMinor } from "../common/pss-version.ts";
import { cel } from "./sysctls.cel.ts";

/** The sysctls Kubernetes considers safe (namespaced, isolated) up to v1.31; Pod Security Standards baseline. */
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

/** Safe from v1.32 on (Kubernetes and PSS baseline). */
export const SAFE_SYSCTLS_V1_32 = ["net.ipv4.tcp_rmem", "net.ipv4.tcp_wmem"] as const;

/** The safe set of a Pod Security Standards version, sorted. */
export function safeSysctls(version: PssVersion): string[] {
  return [...SAFE_SYSCTLS, ...(pssMinor(version) >= 32 ? SAFE_SYSCTLS_V1_32 : [])].sort();
}

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
    forbidden: Globs.default([]).describe("sysctls refused even if safe or allowed below (globs; dot form); empty = nothing extra forbidden"),
    allowedUnsafe: Globs.default([]).describe("sysctls outside the Kubernetes safe set that pods may set (globs; dot form); empty = only the safe set"),
    safeSet: PssVersion.default("latest").describe(
      "whose safe set applies: the Pod Security Standards version (v1.32 added net.ipv4.tcp_rmem and net.ipv4.tcp_wmem); latest = the newest",
    ),
    names: z
      .enum(["normalised", "exact"])
      .default("normalised")
      .describe(
        "normalised: a pod's slash-form name (net/ipv4/tcp_syncookies) is compared in dot form, as the kernel reads it; exact: compared as written, as the Pod Security Standards do",
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
  .transform((o) => ({ ...o, forbidden: [...o.forbidden].sort(), allowedUnsafe: [...o.allowedUnsafe].sort() }));
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
    exactNames: z.boolean(),
  }),
  toParameters: (o) => ({
    safeSysctls: safeSysctls(o.safeSet),
    forbidden: o.forbidden,
    allowedUnsafe: o.allowedUnsafe,
    exactNames: o.names === "exact",
  }),
  rego: controlRego("sysctls"),
  cel,
  describe: (o) => {
    const unsafe = o.allowedUnsafe.length === 0 ? "" : ` plus ${o.allowedUnsafe.join(", ")}`;
    const forbidden = o.forbidden.length === 0 ? "" : `, except ${o.forbidden.join(", ")}`;
    const set = o.safeSet === "latest" ? "" : ` of ${o.safeSet}`;
    const names = o.names === "exact" ? "; names compared as written" : "";
    return `sysctls: the Kubernetes safe set${set}${unsafe}${forbidden}${names}`;
  },
});
