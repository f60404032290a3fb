import { describe, expect, it } from "vitest";
import { gatorTest, type GatorResult } from "../../../test/harness/gator.ts";
import { applyPreset, EnvironmentSettings, PRESET_NAMES, presets, renderEnvironment } from "../index.ts";
import { corpus } from "./corpus.ts";

const NOW = new Date("2026-06-01T00:00:00Z");

describe.each(PRESET_NAMES)("PSS %s preset against the corpus, evaluated by gator", (level) => {
  const settings = EnvironmentSettings.parse(applyPreset({}, level));
  const { objects } = renderEnvironment(settings, NOW);
  let results: GatorResult[] | undefined;
  const resultsFor = (name: string) => {
    results ??= gatorTest(
      objects,
      corpus.map((e) => ({ ...e.object, metadata: { ...(e.object.metadata as object), name: e.name } })),
    );
    return results.filter((r) => r.violatingObject.metadata.name === name);
  };

  it("parses as a valid settings document with every preset control enabled", () => {
    expect(Object.keys(settings.controls).sort()).toEqual(Object.keys(presets[level].controls).sort());
    expect(objects.length).toBeGreaterThan(0);
  });

  it.each(corpus.map((e) => [e.name, e] as const))("%s", (_name, entry) => {
    const failed = [...new Set(resultsFor(entry.name).map((r) => r.constraint.metadata.name))].sort();
    expect(failed).toEqual([...entry[level]].sort());
  });
});

describe("presets", () => {
  it("keep environment-wide settings and replace only the controls", () => {
    const applied = applyPreset({ enforcementAction: "warn", controls: { sysctls: {} } }, "baseline");
    expect(applied.enforcementAction).toBe("warn");
    expect(applied.controls).toEqual(presets.baseline.controls);
  });

  it("restricted is baseline plus more: every baseline control stays enabled", () => {
    for (const id of Object.keys(presets.baseline.controls)) expect(presets.restricted.controls).toHaveProperty(id);
  });
});
