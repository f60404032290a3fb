// The knobs of one control inside an environment's settings document.
import { z } from "zod";
import { EnforcementAction, Exemptions } from "./common/knobs.ts";
import type { AnyControl } from "./control.ts";

export function controlSettingsSchema(control: AnyControl) {
  return z.strictObject({
    enabled: z.boolean().default(true),
    enforcementAction: EnforcementAction.optional().describe("defaults to the environment's enforcementAction"),
    exemptions: Exemptions.prefault({}),
    // Typed as unknown: each control validates its own options; `{}` fills their defaults.
    options: (control.options as z.ZodType<unknown, unknown>).prefault({}),
  });
}
