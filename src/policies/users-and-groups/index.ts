// Which user and group ids containers run with: root (uid 0) unless told otherwise, and the group
// ids that own files and volumes. PodSecurityPolicy's runAsUser, runAsGroup, supplementalGroups and
// fsGroup strategies, checked on the EFFECTIVE value (a container inherits the pod's securityContext).
import { z } from "zod";
import { controlRego, defineControl } from "../control.ts";
import { IdRanges, type IdRange } from "../common/schemas.ts";
import { cel } from "./users-and-groups.cel.ts";

export const userRules = ["MustRunAs", "MustRunAsNonRoot", "RunAsAny"] as const;
export const groupRules = ["MustRunAs", "MayRunAs", "RunAsAny"] as const;
type UserRule = (typeof userRules)[number];
type GroupRule = (typeof groupRules)[number];

/** Rules that need ranges; every other rule must have none. */
const RANGED: readonly string[] = ["MustRunAs", "MayRunAs"];

const SortedIdRanges = IdRanges.transform((ranges) => [...ranges].sort((a, b) => a.min - b.min).map((r) => ({ min: r.min, max: r.max })));

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
    requireRunAsNonRoot: z
      .boolean()
      .default(false)
      .describe(
        "MustRunAsNonRoot only: require runAsNonRoot: true itself (container, or pod and not false on the container; the pod not false), as the Pod Security Standards do; false: a non-zero runAsUser proves non-root too (PodSecurityPolicy)",
      ),
    exemptUserNamespaces: z
      .boolean()
      .default(false)
      .describe(
        "MustRunAsNonRoot only: skip the check for pods with spec.hostUsers: false (uid 0 in their own user namespace is unprivileged on the node), as Pod Security Standards restricted does from v1.35",
      ),
  })
  .superRefine(checkRanges)
  .superRefine((s, ctx) => {
    for (const key of ["requireRunAsNonRoot", "exemptUserNamespaces"] as const) {
      if (s[key] && s.rule !== "MustRunAsNonRoot") {
        ctx.addIssue({ code: "custom", path: [key], message: `${key} applies to rule MustRunAsNonRoot only; rule is ${s.rule}` });
      }
    }
  });

function groupStrategy(what: string) {
  return z
    .strictObject({
      rule: z.enum(groupRules).default("RunAsAny").describe(`MustRunAs: ${what} set and in ranges; MayRunAs: ${what} in ranges when set; RunAsAny: no check`),
      ranges: SortedIdRanges.default([]).describe(rangesDoc),
    })
    .superRefine(checkRanges);
}

export const UsersAndGroupsOptions = z.strictObject({
  runAsUser: UserStrategy.prefault({}).describe("user id of every container (container securityContext, else the pod's)"),
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
const strategyParam = (rules: readonly [string, ...string[]]) => z.strictObject({ rule: z.enum(rules), ranges: z.array(RangeParam) });

export const formatRanges = (ranges: readonly IdRange[]) => ranges.map((r) => (r.min === r.max ? `${r.min}` : `${r.min}-${r.max}`)).join(", ");

type Strategy = { rule: UserRule | GroupRule; ranges: IdRange[]; requireRunAsNonRoot?: boolean; exemptUserNamespaces?: boolean };

function describeStrategy(name: string, s: Strategy): string {
  if (s.rule === "RunAsAny") return `${name} any`;
  if (s.rule === "MustRunAsNonRoot") {
    const proof = s.requireRunAsNonRoot ? " (runAsNonRoot: true required)" : "";
    const userns = s.exemptUserNamespaces ? ", except pods with hostUsers: false" : "";
    return `${name} non-root${proof}${userns}`;
  }
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
    runAsUser: strategyParam(userRules).extend({ requireRunAsNonRoot: z.boolean(), exemptUserNamespaces: z.boolean() }),
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
  cel,
  describe: (o) =>
    [
      describeStrategy("user", o.runAsUser),
      describeStrategy("group", o.runAsGroup),
      describeStrategy("supplemental groups", o.supplementalGroups),
      describeStrategy("fsGroup", o.fsGroup),
    ].join("; "),
});
