// The container runtime masks and read-only-mounts sensitive /proc paths (kcore, keys, sysrq
// trigger, ...). procMount: Unmasked turns that off, exposing host kernel interfaces.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./proc-mount.cel.ts";

export const procMountTypes = ["Default", "Unmasked"] as const;

export const ProcMountOptions = z.strictObject({
  allowed: z
    .enum(procMountTypes)
    .default("Default")
    .describe("Default: securityContext.procMount must be unset or Default; Unmasked: any proc mount type is allowed"),
  anyInUserNamespace: z
    .boolean()
    .default(false)
    .describe(
      "with Default: pods with spec.hostUsers: false (their own user namespace) may still use any proc mount type, as Pod Security Standards baseline allows from v1.35",
    ),
});
export type ProcMountOptions = z.output<typeof ProcMountOptions>;

export const procMount = defineControl({
  id: "procMount",
  slug: "proc-mount",
  kind: "GatehouseProcMount",
  title: "/proc mount type",
  description: "Refuses containers whose securityContext.procMount is anything but unset or Default, unless the Unmasked proc mount type is allowed.",
  options: ProcMountOptions,
  parameters: z.strictObject({ allowed: z.enum(procMountTypes), anyInUserNamespace: z.boolean() }),
  toParameters: (o) => ({ allowed: o.allowed, anyInUserNamespace: o.anyInUserNamespace }),
  rego: controlRego("proc-mount"),
  cel,
  describe: (o) =>
    o.allowed === "Default"
      ? `containers must use the Default (masked) /proc mount${o.anyInUserNamespace ? ", except in pods with hostUsers: false" : ""}`
      : "any /proc mount type is allowed, including Unmasked",
});
