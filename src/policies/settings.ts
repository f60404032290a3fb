// The settings document for one environment: every control, enabled or not, with its knobs.
// This zod schema is the single source of truth for the API, the renderer and the agent.
import { z } from "zod";
import { catalogue } from "./catalogue.ts";
import { controlSettingsSchema } from "./control-settings.ts";
import { EnforcementAction, EnforcementPoint, exemptionsSchema } from "./common/knobs.ts";
import { PssVersion } from "./common/pss-version.ts";

/**
 * Namespaces no control checks unless the environment says otherwise: Kubernetes' own, the
 * policy engine's (a broken policy must not lock out its own repair) and the agent's.
 */
export const DEFAULT_EXEMPT_NAMESPACES = [
  { pattern: "gatehouse-system", reason: "the Gatehouse agent" },
  { pattern: "gatekeeper-system", reason: "the policy engine itself" },
  { pattern: "kube-system", reason: "Kubernetes system components" },
];

const controlsShape = Object.fromEntries(catalogue.map((c) => [c.id, controlSettingsSchema(c).optional()]));

export const EnvironmentSettings = z.strictObject({
  enforcementAction: EnforcementAction.default("deny").describe("for every control that does not set its own"),
  // Optional, not defaulted: a document without it parses (and renders) exactly as before.
  enforcementPoint: EnforcementPoint.optional().describe(
    "for every control with CEL that does not set its own (default webhook); controls without CEL always use the webhook",
  ),
  exemptions: exemptionsSchema(DEFAULT_EXEMPT_NAMESPACES).prefault({}).describe("exemptions for every control, on top of each control's own"),
  controls: z.strictObject(controlsShape).default({}).describe("a control that is absent is disabled"),
  // Optional rather than defaulted, so documents written before it parse to what they were.
  pssVersion: PssVersion.optional().describe(
    "the Pod Security Standards version presets are applied at, like Pod Security Admission's enforce-version (v1.31 … v1.36, or latest); absent = latest. Applying a preset records it; the controls carry that version's semantics",
  ),
});
export type EnvironmentSettingsInput = z.input<typeof EnvironmentSettings>;
export type EnvironmentSettings = z.output<typeof EnvironmentSettings>;
export type ControlSettings = z.output<ReturnType<typeof controlSettingsSchema>>;
