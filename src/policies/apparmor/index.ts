// AppArmor confines what a container process may do (files, mounts, raw sockets). A container
// may run only under the listed profiles; "unconfined" switches confinement off. Checked on the
// EFFECTIVE profile: the container's field, else its pod annotation, else the pod's field, else
// the runtime default. PodSecurityPolicy's apparmor.security.beta.kubernetes.io/allowedProfileNames.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./apparmor.cel.ts";

const Profile = z.string().regex(/^(runtime\/default|unconfined|localhost\/(\*|[^\s*]+))$/, {
  message: "must be runtime/default, unconfined, localhost/<profile> or localhost/*",
});

/** Distinct profiles; a named localhost profile beside localhost/* is refused as redundant. */
export function profileList<T extends z.ZodType<string>>(item: T, localhostPrefix: string) {
  const wildcard = `${localhostPrefix}*`;
  return z
    .array(item)
    .max(64)
    .superRefine((items, ctx) => {
      const list: readonly string[] = items;
      const seen = new Map<string, number>();
      list.forEach((p, i) => {
        const first = seen.get(p);
        if (first !== undefined) ctx.addIssue({ code: "custom", path: [i], message: `duplicate of entry ${first}` });
        else if (p !== wildcard && p.startsWith(localhostPrefix) && list.includes(wildcard)) {
          ctx.addIssue({ code: "custom", path: [i], message: `already allowed by ${wildcard}` });
        }
        seen.set(p, first ?? i);
      });
    })
    .transform((list) => [...list].sort());
}

export const AppArmorOptions = z.strictObject({
  allowed: profileList(Profile, "localhost/")
    .refine((l) => l.length > 0, {
      message: "allow at least one profile: unset counts as runtime/default, so an empty list refuses every pod",
    })
    .default(["localhost/*", "runtime/default"])
    .describe(
      "AppArmor profiles containers may run under: runtime/default, unconfined, localhost/<profile>, localhost/* (any localhost profile). A container that sets none runs under runtime/default",
    ),
  checkOverridden: z
    .boolean()
    .default(false)
    .describe(
      "check every place a profile is set (the pod's field, each container's field and its annotation), even where a more specific one overrides it, as the Pod Security Standards do; false: only the profile each container runs under counts",
    ),
});
export type AppArmorOptions = z.output<typeof AppArmorOptions>;

export const appArmor = defineControl({
  id: "appArmor",
  slug: "apparmor",
  kind: "GatehouseAppArmor",
  title: "AppArmor profiles",
  description:
    "Refuses containers whose effective AppArmor profile (securityContext.appArmorProfile, the container's AppArmor annotation, or the pod's profile; unset = runtime/default) is not allowed.",
  options: AppArmorOptions,
  parameters: z.strictObject({ allowed: z.array(z.string()), checkOverridden: z.boolean() }),
  toParameters: (options) => ({ allowed: options.allowed, checkOverridden: options.checkOverridden }),
  rego: controlRego("apparmor"),
  cel,
  describe: (options) =>
    `AppArmor profiles allowed: ${options.allowed.join(", ")} (unset runs as runtime/default)${options.checkOverridden ? "; every field and annotation is checked, even where overridden" : ""}`,
});
