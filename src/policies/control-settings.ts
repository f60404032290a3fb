// The knobs of one control inside an environment's settings document.
import { z } from "zod";
import { EnforcementAction, EnforcementPoint, Exemptions } from "./common/knobs.ts";
import type { AnyControl } from "./control.ts";

export function controlSettingsSchema(control: AnyControl) {
  return z.strictObject({
    enabled: z.boolean().default(true),
    enforcementAction: EnforcementAction.optional().describe("defaults to the environment's enforcementAction"),
    // Only a control with CEL can be enforced by the API server; saying so for a Rego-only one
    // is refused here, by name, rather than silently left to the webhook.
    enforcementPoint: (control.cel
      ? EnforcementPoint
      : EnforcementPoint.refine((p) => p === "webhook", {
          message: `${control.slug} has no CEL (Rego only, see its README): only the webhook can enforce it`,
        })
    )
      .optional()
      .describe("defaults to the environment's enforcementPoint (controls without CEL: webhook)"),
    exemptions: Exemptions.prefault({}),
    // Typed as unknown: each control validates its own options; `{}` fills their defaults.
    options: (control.options as z.ZodType<unknown, unknown>).prefault({}),
  });
}
