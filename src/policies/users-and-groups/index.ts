// Which user and group ids containers run with: root (uid 0) unless told otherwise, and the group
// ids that own files and volumes. PodSecurityPolicy's runAsUser, runAsGroup, supplementalGroups and
// fsGroup strategies, checked on the EFFECTIVE value (a container inherits the pod's securityContext).
import { z } from "zod";
import { defineControl } from "../control.ts";
import { IdRanges, type IdRange } from "../common/schemas.ts";

export const userRules = ["MustRunAs", "MustRunAsNonRoot", "RunAsAny"] as const;
export const groupRules = ["MustRunAs", "MayRunAs", "RunAsAny"] as const;
type UserRule = (typeof userRules)[number];
type GroupRule = (typeof groupRules)[number];

/** Rules that need ranges; every other rule must have none. */
const RANGED: readonly string[] = ["MustRunAs", "MayRunAs"];

const SortedIdRanges = IdRanges.transform((ranges) =>
  [...ranges].sort((a, b) => a.min - b.min).map((r) => ({ min: r.min, max: r.max })),
);

function checkRanges(s: { rule: string; ranges: IdRange[] }, ctx: z.RefinementCtx) {
  const ranged = RANGED.includes(s.rule);
  if (ranged && s.ranges.length === 0) {
    ctx.addIssue({ code: "custom", path: ["ranges"], message: `rule ${s.rule} needs at least one id range` });
  }
  if (!ranged && s.ranges.length > 0) {
    ctx.addIssue({ code: "custom", path: ["ranges"], message: `rule ${s.rule} takes no ranges; use MustRunAs or remove them` });
  }
}

const rangesDoc = "inclusive id ranges (0-2147483647, non-overlapping); required by MustRunAs/MayRunAs, refused otherwise";

const UserStrategy = z
  .strictObject({
    rule: z
      .enum(userRules)
      .default("MustRunAsNonRoot")
      .describe(
        "MustRunAs: effective runAsUser set and in ranges; MustRunAsNonRoot: runAsNonRoot true or a non-zero runAsUser, and no explicit uid 0; RunAsAny: no check",
      ),
    ranges: SortedIdRanges.default([]).describe(rangesDoc),
  })
  .superRefine(checkRanges);

function groupStrategy(what: string) {
  return z
    .strictObject({
      rule: z
        .enum(groupRules)
        .default("RunAsAny")
        .describe(`MustRunAs: ${what} set and in ranges; MayRunAs: ${what} in ranges when set; RunAsAny: no check`),
      ranges: SortedIdRanges.default([]).describe(rangesDoc),
    })
    .superRefine(checkRanges);
}

export const UsersAndGroupsOptions = z.strictObject({
  runAsUser: UserStrategy.default({ rule: "MustRunAsNonRoot", ranges: [] }).describe(
    "user id of every container (container securityContext, else the pod's)",
  ),
  runAsGroup: groupStrategy("the effective runAsGroup")
    .default({ rule: "RunAsAny", ranges: [] })
    .describe("primary group id of every container (container securityContext, else the pod's)"),
  supplementalGroups: groupStrategy("spec.securityContext.supplementalGroups (non-empty)")
    .default({ rule: "RunAsAny", ranges: [] })
    .describe("the pod's supplementalGroups"),
  fsGroup: groupStrategy("spec.securityContext.fsGroup")
    .default({ rule: "RunAsAny", ranges: [] })
    .describe("the pod's fsGroup (group that owns mounted volumes)"),
});
export type UsersAndGroupsOptions = z.output<typeof UsersAndGroupsOptions>;


const RangeParam = z.strictObject({ min: z.int(), max: z.int() });
const strategyParam = (rules: readonly [string, ...string[]]) =>
  z.strictObject({ rule: z.enum(rules), ranges: z.array(RangeParam) });

export const formatRanges = (ranges: readonly IdRange[]) =>
  ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(", ");

function describeStrategy(name: string, s: { rule: UserRule | GroupRule; ranges: IdRange[] }): string {
  if (s.rule === "RunAsAny") return `${name} any`;
  if (s.rule === "MustRunAsNonRoot") return `${name} non-root`;
  return `${name} ${s.rule === "MayRunAs" ? "if set, " : ""}in ${formatRanges(s.ranges)}`;
}

export const usersAndGroups = defineControl({
  id: "usersAndGroups",
  slug: "users-and-groups",
  kind: "GatehouseUsersAndGroups",
  title: "Users and groups",
  description:
    "Refuses containers whose effective runAsUser/runAsNonRoot/runAsGroup, or pods whose supplementalGroups/fsGroup, break the configured PodSecurityPolicy-style rules (default: must run as non-root).",
  options: UsersAndGroupsOptions,
  parameters: z.strictObject({
    runAsUser: strategyParam(userRules),
    runAsGroup: strategyParam(groupRules),
    supplementalGroups: strategyParam(groupRules),
    fsGroup: strategyParam(groupRules),
  }),
  toParameters: (o) => ({
    runAsUser: o.runAsUser,
    runAsGroup: o.runAsGroup,
    supplementalGroups: o.supplementalGroups,
    fsGroup: o.fsGroup,
  }),
  rego: String.raw`
# --- runAsUser ---------------------------------------------------------------------------------

findings contains f if {
	input.parameters.runAsUser.rule == "MustRunAs"
	some ct in gh.containers
	e := effective(ct, "runAsUser")
	not in_ranges(e.value, input.parameters.runAsUser.ranges)
	why := sprintf("%sallowed user ids: %s", [origin(e, "runAsUser"), ranges_text(input.parameters.runAsUser.ranges)])
	f := gh.container_finding(ct, "securityContext.runAsUser", e.value, why)
}

findings contains f if {
	input.parameters.runAsUser.rule == "MustRunAsNonRoot"
	some ct in gh.containers
	not runs_as_non_root(ct)
	e := effective(ct, "runAsNonRoot")
	why := sprintf("%sthe container must run as non-root: runAsNonRoot true, or a non-zero runAsUser, on the container or the pod", [origin(e, "runAsNonRoot")])
	f := gh.container_finding(ct, "securityContext.runAsNonRoot", e.value, why)
}

findings contains f if {
	input.parameters.runAsUser.rule == "MustRunAsNonRoot"
	some ct in gh.containers
	object.get(ct.container, ["securityContext", "runAsUser"], null) == 0
	f := gh.container_finding(ct, "securityContext.runAsUser", 0, "user id 0 (root) is not allowed; any non-zero user id is")
}

findings contains f if {
	input.parameters.runAsUser.rule == "MustRunAsNonRoot"
	gh.pod_checked
	object.get(gh.pod, ["spec", "securityContext", "runAsUser"], null) == 0
	f := gh.pod_finding("spec.securityContext.runAsUser", 0, "user id 0 (root) is not allowed for the pod; any non-zero user id is")
}

runs_as_non_root(ct) if {
	e := effective(ct, "runAsNonRoot")
	e.value == true
}

runs_as_non_root(ct) if {
	uid := effective(ct, "runAsUser").value
	is_number(uid)
	uid != 0
}

# --- runAsGroup, supplementalGroups, fsGroup ---------------------------------------------------

findings contains f if {
	s := input.parameters.runAsGroup
	some ct in gh.containers
	e := effective(ct, "runAsGroup")
	id_refused(s.rule, e.value, s.ranges)
	why := sprintf("%s%s", [origin(e, "runAsGroup"), allowed_groups(s)])
	f := gh.container_finding(ct, "securityContext.runAsGroup", e.value, why)
}

findings contains f if {
	s := input.parameters.supplementalGroups
	s.rule == "MustRunAs"
	gh.pod_checked
	not has_supplemental_groups
	groups := object.get(gh.pod, ["spec", "securityContext", "supplementalGroups"], null)
	why := sprintf("at least one supplemental group is required; %s", [allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.supplementalGroups", groups, why)
}

findings contains f if {
	s := input.parameters.supplementalGroups
	s.rule in {"MustRunAs", "MayRunAs"}
	gh.pod_checked
	groups := object.get(gh.pod, ["spec", "securityContext", "supplementalGroups"], [])
	outside := [sprintf("%v", [g]) | some g in groups; not in_ranges(g, s.ranges)]
	count(outside) > 0
	why := sprintf("group ids %s are outside the allowed ranges; %s", [concat(", ", outside), allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.supplementalGroups", groups, why)
}

findings contains f if {
	s := input.parameters.fsGroup
	gh.pod_checked
	v := object.get(gh.pod, ["spec", "securityContext", "fsGroup"], null)
	id_refused(s.rule, v, s.ranges)
	why := sprintf("%s%s", [unset_note(v, "fsGroup"), allowed_groups(s)])
	f := gh.pod_finding("spec.securityContext.fsGroup", v, why)
}

has_supplemental_groups if {
	groups := gh.pod.spec.securityContext.supplementalGroups
	is_array(groups)
	count(groups) > 0
}

# --- helpers -----------------------------------------------------------------------------------

# The value a container runs with: its own securityContext field, else the pod's.
effective(ct, key) := {"value": v, "from": "container"} if {
	v := object.get(ct.container, ["securityContext", key], null)
	v != null
} else := {"value": v, "from": "pod"} if {
	v := object.get(gh.pod, ["spec", "securityContext", key], null)
	v != null
} else := {"value": null, "from": "unset"}

origin(e, key) := sprintf("inherited from the pod's spec.securityContext.%s; ", [key]) if {
	e.from == "pod"
} else := sprintf("%s is set neither on the container nor on the pod; ", [key]) if {
	e.from == "unset"
} else := ""

unset_note(v, key) := sprintf("%s must be set; ", [key]) if {
	v == null
} else := ""

id_refused("MustRunAs", v, ranges) if {
	not in_ranges(v, ranges)
}

id_refused("MayRunAs", v, ranges) if {
	v != null
	not in_ranges(v, ranges)
}

in_ranges(id, ranges) if {
	is_number(id)
	some r in ranges
	r.min <= id
	id <= r.max
}

allowed_groups(s) := sprintf("allowed group ids: %s (rule %s)", [ranges_text(s.ranges), s.rule])

ranges_text(ranges) := concat(", ", [range_text(r) | some r in ranges])

range_text(r) := sprintf("%d", [r.min]) if {
	r.min == r.max
} else := sprintf("%d-%d", [r.min, r.max])
`,
  describe: (o) =>
    [
      describeStrategy("user", o.runAsUser),
      describeStrategy("group", o.runAsGroup),
      describeStrategy("supplemental groups", o.supplementalGroups),
      describeStrategy("fsGroup", o.fsGroup),
    ].join("; "),
});
