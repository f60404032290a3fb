// Which user and group ids containers run with: root (uid 0) unless told otherwise, and the group
// ids that own files and volumes. PodSecurityPolicy's runAsUser, runAsGroup, supplementalGroups and
// fsGroup strategies, checked on the EFFECTIVE value (a container inherits the pod's securityContext).
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
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
  rego: controlRego("users-and-groups"),
  describe: (o) =>
    [
      describeStrategy("user", o.runAsUser),
      describeStrategy("group", o.runAsGroup),
      describeStrategy("supplemental groups", o.supplementalGroups),
      describeStrategy("fsGroup", o.fsGroup),
    ].join("; "),
});
