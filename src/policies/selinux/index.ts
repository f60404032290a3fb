// SELinux labels decide what a container process may touch on the node; a custom user, role or
// type (spc_t, unconfined_t) can lift that confinement. Pods and containers may set only the
// listed combinations of seLinuxOptions. PodSecurityPolicy's seLinux (MustRunAs) strategy.
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { cel } from "./selinux.cel.ts";

export const SELINUX_FIELDS = ["user", "role", "type", "level"] as const;
type Field = (typeof SELINUX_FIELDS)[number];
export type SELinuxEntry = Partial<Record<Field, string>>;

const Value = z
  .string()
  .max(253)
  .regex(/^(\*|[^\s*]+)$/, { message: 'must be "*" (any value) or an exact value without spaces or *' });

const fieldDoc = (f: Field) => `${f} the pod may set: exact value, or * for any (or unset); omitted = must be unset`;

/** Keys in alphabetical order (so entries sort by their JSON text), omitted fields absent: equal entries serialise identically. */
const canonical = (e: SELinuxEntry): SELinuxEntry => Object.fromEntries([...SELINUX_FIELDS].sort().flatMap((k) => (e[k] === undefined ? [] : [[k, e[k]]])));

const Entry = z
  .strictObject({
    user: Value.optional().describe(fieldDoc("user")),
    role: Value.optional().describe(fieldDoc("role")),
    type: Value.optional().describe(fieldDoc("type")),
    level: Value.optional().describe(fieldDoc("level")),
  })
  .refine((e) => SELINUX_FIELDS.some((k) => e[k] !== undefined), {
    message: "set at least one of user, role, type, level (seLinuxOptions that set nothing are always allowed)",
  })
  .transform(canonical);

const key = (e: SELinuxEntry) => JSON.stringify(e);

const EntryList = z
  .array(Entry)
  .max(64)
  .superRefine((list, ctx) => {
    const seen = new Map<string, number>();
    list.forEach((e, i) => {
      const first = seen.get(key(e));
      if (first !== undefined) ctx.addIssue({ code: "custom", path: [i], message: `duplicate of entry ${first}` });
      else seen.set(key(e), i);
    });
  })
  .transform((list) => [...list].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0)));

export const SELinuxOptions = z.strictObject({
  allowed: EntryList.default([]).describe(
    "combinations of seLinuxOptions a pod or container may set; each field is an exact value, * (any value or unset), or omitted (must be unset). Empty = seLinuxOptions may set nothing",
  ),
});
export type SELinuxOptions = z.output<typeof SELinuxOptions>;

export const entryText = (e: SELinuxEntry) => `{${SELINUX_FIELDS.flatMap((k) => (e[k] === undefined ? [] : [`${k}: ${e[k]}`])).join(", ")}}`;

export const seLinux = defineControl({
  id: "seLinux",
  slug: "selinux",
  kind: "GatehouseSELinux",
  title: "SELinux options",
  description: "Refuses pods and containers whose securityContext.seLinuxOptions set user, role, type or level in a combination that is not allowed.",
  options: SELinuxOptions,
  parameters: z.strictObject({
    allowed: z.array(
      z.strictObject({
        level: z.string().optional(),
        role: z.string().optional(),
        type: z.string().optional(),
        user: z.string().optional(),
      }),
    ),
  }),
  toParameters: (options) => ({ allowed: options.allowed }),
  rego: controlRego("selinux"),
  cel,
  describe: (options) => {
    const { allowed } = options;
    if (allowed.length === 0) return "seLinuxOptions may not set any field";
    return `seLinuxOptions unset, or one of: ${allowed.map(entryText).join(", ")}`;
  },
});
