// SELinux labels decide what a container process may touch on the node; a custom user, role or
// type (spc_t, unconfined_t) can lift that confinement. Pods and containers may set only the
// listed combinations of seLinuxOptions. PodSecurityPolicy's seLinux (MustRunAs) strategy.
import { z } from "zod";
import { defineControl } from "../control.ts";

export const SELINUX_FIELDS = ["user", "role", "type", "level"] as const;
type Field = (typeof SELINUX_FIELDS)[number];
export type SELinuxEntry = Partial<Record<Field, string>>;

const Value = z
  .string()
  .max(253)
  .regex(/^(\*|[^\s*]+)$/, { message: 'must be "*" (any value) or an exact value without spaces or *' });

const fieldDoc = (f: Field) => `${f} the pod may set: exact value, or * for any (or unset); omitted = must be unset`;

/** Keys in alphabetical order (so entries sort by their JSON text), omitted fields absent: equal entries serialise identically. */
const canonical = (e: SELinuxEntry): SELinuxEntry =>
  Object.fromEntries([...SELINUX_FIELDS].sort().flatMap((k) => (e[k] === undefined ? [] : [[k, e[k]]])));

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


export const entryText = (e: SELinuxEntry) =>
  `{${SELINUX_FIELDS.flatMap((k) => (e[k] === undefined ? [] : [`${k}: ${e[k]}`])).join(", ")}}`;

export const seLinux = defineControl({
  id: "seLinux",
  slug: "selinux",
  kind: "GatehouseSELinux",
  title: "SELinux options",
  description:
    "Refuses pods and containers whose securityContext.seLinuxOptions set user, role, type or level in a combination that is not allowed.",
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
  rego: String.raw`
findings contains f if {
	gh.pod_checked
	opts := object.get(gh.pod, ["spec", "securityContext", "seLinuxOptions"], null)
	selinux_refused(opts)
	f := gh.pod_finding("spec.securityContext.seLinuxOptions", opts, selinux_why)
}

findings contains f if {
	some ct in gh.containers
	opts := object.get(ct.container, ["securityContext", "seLinuxOptions"], null)
	selinux_refused(opts)
	f := gh.container_finding(ct, "securityContext.seLinuxOptions", opts, selinux_why)
}

selinux_fields := ["user", "role", "type", "level"]

allowed_selinux := object.get(input.parameters, "allowed", [])

# seLinuxOptions that set nothing override nothing, so they are always allowed.
selinux_refused(opts) if {
	some k in selinux_fields
	selinux_option(opts, k) != ""
	not selinux_matched(opts)
}

# A field the pod omits, sets to null or sets to "" is unset ("").
selinux_option(opts, k) := "" if {
	not is_object(opts)
} else := "" if {
	object.get(opts, k, null) == null
} else := v if {
	v := opts[k]
	is_string(v)
} else := sprintf("%v", [opts[k]])

selinux_matched(opts) if {
	some e in allowed_selinux
	not entry_mismatch(e, opts)
}

# An entry's field: "*" matches anything; an omitted field ("") requires the pod's to be unset.
entry_mismatch(e, opts) if {
	some k in selinux_fields
	want := object.get(e, k, "")
	want != "*"
	want != selinux_option(opts, k)
}

selinux_why := "seLinuxOptions may not set user, role, type or level" if {
	count(allowed_selinux) == 0
} else := sprintf("allowed seLinuxOptions (a field not listed must be unset, * is any value): %s", [
	concat(", ", [entry_text(e) | some e in allowed_selinux]),
])

entry_text(e) := sprintf("{%s}", [concat(", ", [sprintf("%s: %s", [k, e[k]]) | some k in selinux_fields; e[k]])])
`,
  describe: (options) => {
    const { allowed } = options;
    if (allowed.length === 0) return "seLinuxOptions may not set any field";
    return `seLinuxOptions unset, or one of: ${allowed.map(entryText).join(", ")}`;
  },
});
