// Parity suite (issue 20): every sample of every control with CEL, and the PSS corpus under each
// preset, give the same verdict under gator's CEL engine as under Rego. The corpus part runs
// whole presets with enforcementPoint "both", so controls without CEL are evaluated by Rego in
// both runs and the rest by each engine in turn.
import { describe, expect, it } from "vitest";
import { catalogue } from "../../src/policies/catalogue.ts";
import { controlSettingsSchema } from "../../src/policies/control-settings.ts";
import { renderExpansionTemplates } from "../../src/policies/expansion.ts";
import { applyPreset, EnvironmentSettings, PRESET_NAMES, renderEnvironment } from "../../src/policies/index.ts";
import { corpus } from "../../src/policies/presets/corpus.ts";
import { renderConstraint, renderTemplate } from "../../src/policies/render.ts";
import type { Sample } from "../../src/policies/sample.ts";
import { verifyParity } from "./parity.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const withCel = catalogue.filter((c) => c.cel);
const samplesOf = async (slug: string) => ((await import(`../../src/policies/${slug}/samples.ts`)) as { samples: Sample[] }).samples;

describe("controls with CEL", () => {
  it("are the ones the README lists", () => {
    expect(withCel.map((c) => c.slug)).toEqual([
      "privileged-containers",
      "host-namespaces",
      "host-network-ports",
      "read-only-root-filesystem",
      "users-and-groups",
      "privilege-escalation",
      "capabilities",
      "proc-mount",
      "apparmor",
      "seccomp",
      "sysctls",
      "windows-host-process",
    ]);
  });
});

// One gator run per control and distinct settings: the samples sharing them are evaluated together.
for (const control of withCel) {
  const groups = new Map<string, Sample[]>();
  for (const s of await samplesOf(control.slug)) {
    const key = JSON.stringify([s.options ?? {}, s.exemptions ?? {}]);
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const group of groups.values()) {
    const first = group[0]!;
    const settings = controlSettingsSchema(control).parse({ options: first.options, exemptions: first.exemptions });
    const policy = [
      renderTemplate(control, "both"),
      renderConstraint(control, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, NOW),
      ...renderExpansionTemplates(),
    ];
    const objects = group.map((s) => ({ ...s.object, metadata: { ...(s.object.metadata as object), name: s.name } }));
    verifyParity(`${control.slug} samples ${group.map((s) => s.name).join(", ")}`, policy, objects);
  }
}

for (const preset of PRESET_NAMES) {
  const { objects } = renderEnvironment(EnvironmentSettings.parse({ ...applyPreset({}, preset), enforcementPoint: "both" }), NOW);
  verifyParity(
    `PSS ${preset} preset over the corpus`,
    objects,
    corpus.map((e) => ({ ...e.object, metadata: { ...(e.object.metadata as object), name: e.name } })),
  );
}
