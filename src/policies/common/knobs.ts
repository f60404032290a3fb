// The knobs every control shares: enforcement action and exemptions.
import { z } from "zod";

export const enforcementActions = ["deny", "warn", "dryrun"] as const;
export const EnforcementAction = z
  .enum(enforcementActions)
  .describe("deny: refuse at admission; warn: admit with a warning; dryrun: admit silently, record in audit");
export type EnforcementAction = z.infer<typeof EnforcementAction>;

// Who refuses: Gatekeeper's admission webhook (Rego), the API server itself (the
// ValidatingAdmissionPolicy Gatekeeper generates from the control's CEL), or both.
export const enforcementPoints = ["webhook", "apiserver", "both"] as const;
export const EnforcementPoint = z
  .enum(enforcementPoints)
  .describe(
    "webhook: Gatekeeper's admission webhook evaluates the Rego; apiserver: the API server evaluates the control's CEL (a ValidatingAdmissionPolicy Gatekeeper generates), no webhook involved; both: either refuses",
  );
export type EnforcementPoint = z.infer<typeof EnforcementPoint>;

// Namespace names are DNS-1123 labels; a pattern may end in `*` to match a prefix (`kube-*`).
const namespacePattern = z
  .string()
  .min(1)
  .max(63)
  .regex(/^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?|[a-z0-9][-a-z0-9]*\*)$/, {
    message: "must be a namespace name, optionally ending in * to match a prefix (e.g. kube-*)",
  });

// Images: an exact reference, or a prefix ending in `*` (`registry.k8s.io/*`). `*` may only end it.
const imagePattern = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^\s*]+\*?$/, {
    message: "must be an image reference without spaces, optionally ending in * to match a prefix",
  });

function exemption<T extends z.ZodString>(pattern: T) {
  return z.strictObject({
    pattern,
    reason: z.string().min(1).max(500).optional().describe("why the exemption exists (shown in the summary)"),
    expiresAt: z.iso.datetime({ offset: true }).optional().describe("RFC 3339 time after which the exemption is no longer rendered"),
  });
}

export const NamespaceExemption = exemption(namespacePattern);
export const ImageExemption = exemption(imagePattern);
export type Exemption = z.infer<typeof NamespaceExemption>;

function uniquePatterns(list: readonly Exemption[], ctx: z.RefinementCtx) {
  const seen = new Map<string, number>();
  list.forEach((e, i) => {
    const first = seen.get(e.pattern);
    if (first !== undefined) {
      ctx.addIssue({ code: "custom", path: [i, "pattern"], message: `duplicate of entry ${first}` });
    } else seen.set(e.pattern, i);
  });
}

/** Exemptions; `defaultNamespaces` is what an omitted `namespaces` list means. */
export function exemptionsSchema(defaultNamespaces: Exemption[] = []) {
  return z
    .strictObject({
      namespaces: z.array(NamespaceExemption).max(256).superRefine(uniquePatterns).default(defaultNamespaces),
      images: z.array(ImageExemption).max(256).superRefine(uniquePatterns).default([]),
    })
    .describe("resources that the control does not check");
}

export const Exemptions = exemptionsSchema();
export type Exemptions = z.infer<typeof Exemptions>;

/** Exemptions still in force at `now`: an expired one is simply not rendered. */
export function activePatterns(list: readonly Exemption[], now: Date): string[] {
  return list.filter((e) => e.expiresAt === undefined || Date.parse(e.expiresAt) > now.getTime()).map((e) => e.pattern);
}
