// Golden files: what clusters run, as YAML in review. Each preset and the all-controls document
// (golden/all-controls.settings.ts) rendered at a fixed time must equal its committed file, so a
// change to any control, its Rego or the renderer shows as a diff of the objects it changes.
// After an intended change: `npm run golden:update` (UPDATE_GOLDEN=1) rewrites them.
import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ALL_CONTROLS } from "./golden/all-controls.settings.ts";
import { applyPreset, EnvironmentSettings, PRESET_NAMES, renderEnvironment, toYaml, type EnvironmentSettingsInput } from "./index.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const update = process.env.UPDATE_GOLDEN === "1";

const documents: [string, EnvironmentSettingsInput][] = [
  ...PRESET_NAMES.map((p) => [p, applyPreset({}, p)] as [string, EnvironmentSettingsInput]),
  ["all-controls", ALL_CONTROLS],
];

/** The render CLI's output: the summary as comments, then every object. */
function rendered(input: EnvironmentSettingsInput): string {
  const { objects, summary } = renderEnvironment(EnvironmentSettings.parse(input), NOW);
  return `# Rendered at ${NOW.toISOString()} by src/policies/golden.test.ts; update with npm run golden:update\n${summary.map((l) => `# ${l}`).join("\n")}\n${toYaml(objects)}`;
}

describe.each(documents)("golden file %s.yaml", (name, input) => {
  const file = new URL(`./golden/${name}.yaml`, import.meta.url);

  it("equals the rendered objects", () => {
    const text = rendered(input);
    if (update) writeFileSync(file, text);
    expect(text).toBe(readFileSync(file, "utf8"));
  });
});

it("the all-controls document enables every control away from its defaults", async () => {
  const { catalogue } = await import("./catalogue.ts");
  const settings = EnvironmentSettings.parse(ALL_CONTROLS);
  for (const c of catalogue) {
    const s = (settings.controls as Record<string, { enabled: boolean; options: unknown }>)[c.id];
    expect(s?.enabled, c.id).toBe(true);
    // A control with options must differ from what `{}` means; one without has nothing to vary.
    const defaults = c.options.parse({});
    if (Object.keys(defaults as object).length > 0) expect(s?.options, c.id).not.toEqual(defaults);
  }
});
