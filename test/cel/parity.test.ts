// Parity suite (issue 20): every sample of every control with CEL, and the PSS corpora under each
// preset (the presets' corpus, the PSA library's distinct fixture pods and seeded boundary
// objects from test/pss/boundary-pods.ts), give the same verdict under gator's CEL engine as
// under Rego. The corpus part runs whole presets with enforcementPoint "both", so controls
// without CEL are evaluated by Rego in both runs and the rest by each engine in turn.
// GATEHOUSE_PSS_SEED=<n> replays the boundary objects of a run (the seed is in the test names).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../src/policies/catalogue.ts";
import { controlSettingsSchema } from "../../src/policies/control-settings.ts";
import { renderExpansionTemplates } from "../../src/policies/expansion.ts";
import { applyPreset, EnvironmentSettings, PRESET_NAMES, renderEnvironment } from "../../src/policies/index.ts";
import { corpus } from "../../src/policies/presets/corpus.ts";
import { renderConstraint, renderTemplate } from "../../src/policies/render.ts";
import type { Sample } from "../../src/policies/sample.ts";
import { asAdmitted, distinctFixtures } from "../harness/psa.ts";
import { samplesOf } from "../harness/samples.ts";
import { boundaryObject } from "../pss/boundary-pods.ts";
import { verifyParity } from "./parity.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const withCel = catalogue.filter((c) => c.cel);
// A few hundred: each preset runs gator twice over all of them (the PSS suite itself takes thousands).
const BOUNDARY_RUNS = 300;
const SEED = Number(process.env.GATEHOUSE_PSS_SEED ?? Math.floor(Math.random() * 2 ** 31));

describe("controls with CEL", () => {
  it("are the ones the README lists", () => {
    expect(withCel.map((c) => c.slug)).toEqual([
      "privileged-containers",
      "host-namespaces",
      "host-network-ports",
      "host-paths",
      "flexvolume-drivers",
      "read-only-root-filesystem",
      "users-and-groups",
      "privilege-escalation",
      "capabilities",
      "selinux",
      "proc-mount",
      "apparmor",
      "seccomp",
      "sysctls",
      "windows-host-process",
      "probe-hosts",
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

const named = (object: Record<string, unknown>, name: string) => ({ ...object, metadata: { ...(object.metadata as object), name } });
const objects = [
  ...corpus.map((e) => named(e.object, e.name)),
  ...distinctFixtures().map((f, i) => named(f.pod, `fixture-${i}`)),
  ...fc.sample(boundaryObject, { seed: SEED, numRuns: BOUNDARY_RUNS }).map((o, i) => named(asAdmitted(o), `boundary-${i}`)),
];

for (const preset of PRESET_NAMES) {
  const policy = renderEnvironment(EnvironmentSettings.parse({ ...applyPreset({}, preset), enforcementPoint: "both" }), NOW).objects;
  verifyParity(`PSS ${preset} preset over the corpus, the PSA fixtures and boundary objects (GATEHOUSE_PSS_SEED=${SEED})`, policy, objects);
}
