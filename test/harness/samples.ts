// Proves a control's samples with the real engine: renders the control with each sample's
// settings, runs gator over the sample objects, and asserts the exact outcome per sample.
import { beforeAll, describe, expect, it } from "vitest";
import type { AnyControl } from "../../src/policies/control.ts";
import { renderExpansionTemplates } from "../../src/policies/expansion.ts";
import { renderConstraint, renderTemplate } from "../../src/policies/render.ts";
import type { Sample } from "../../src/policies/sample.ts";
import { controlSettingsSchema } from "../../src/policies/control-settings.ts";
import { gatorTest, type GatorResult } from "./gator.ts";

const NOW = new Date("2026-06-01T00:00:00Z");

/** A control's samples (src/policies/<slug>/samples.ts), for suites that walk the whole catalogue. */
export const samplesOf = async (slug: string): Promise<Sample[]> => ((await import(`../../src/policies/${slug}/samples.ts`)) as { samples: Sample[] }).samples;
const noExemptions = { namespaces: [], images: [] };

export function verifyControlSamples(control: AnyControl, samples: readonly Sample[]) {
  describe(`${control.slug} samples, evaluated by gator`, () => {
    it("has unique sample names, allowed and disallowed cases, and a workload case", () => {
      expect(new Set(samples.map((s) => s.name)).size).toBe(samples.length);
      expect(samples.some((s) => s.expect.length === 0)).toBe(true);
      expect(samples.some((s) => s.expect.length > 0)).toBe(true);
      expect(samples.some((s) => s.object.kind !== "Pod" && s.expect.length > 0)).toBe(true);
    });

    // One gator run per distinct settings: the samples that share them are evaluated together.
    const groups = new Map<string, Sample[]>();
    for (const s of samples) {
      const key = JSON.stringify([s.options ?? {}, s.exemptions ?? {}]);
      groups.set(key, [...(groups.get(key) ?? []), s]);
    }
    const results = new Map<string, GatorResult[]>();

    beforeAll(() => {
      for (const group of groups.values()) {
        const first = group[0]!;
        const settings = controlSettingsSchema(control).parse({ options: first.options, exemptions: first.exemptions });
        const policy = [
          renderTemplate(control),
          renderConstraint(control, { ...settings, enforcementAction: "deny" }, noExemptions, NOW),
          ...renderExpansionTemplates(),
        ];
        const objects = group.map((s) => ({ ...s.object, metadata: { ...(s.object.metadata as object), name: s.name } }));
        const found = gatorTest(policy, objects);
        for (const s of group) {
          results.set(
            s.name,
            found.filter((r) => r.violatingObject.metadata.name === s.name),
          );
        }
      }
    });

    for (const sample of samples) {
      const verdict = sample.expect.length === 0 ? "admitted" : `refused (${sample.expect.map((e) => e.field).join(", ")})`;
      it(`${sample.name}: ${sample.description} → ${verdict}`, () => {
        const found = results.get(sample.name);
        expect(found, "gator did not evaluate this sample").toBeDefined();
        const seen = found!.map((r) => ({ container: r.metadata?.details?.container, field: r.metadata?.details?.field }));
        const want = sample.expect.map((e) => ({ container: e.container, field: e.field }));
        const order = (a: { container?: string | undefined; field?: string | undefined }) => `${a.container}|${a.field}`;
        expect(seen.map(order).sort()).toEqual(want.map(order).sort());
        for (const r of found!) {
          const d = r.metadata?.details;
          // The message a denied user reads names the container, the field and how to exempt.
          if (d?.container) expect(r.msg).toContain(`"${d.container}"`);
          expect(r.msg).toContain(String(d?.field));
          expect(r.msg).toContain(`Gatehouse control ${control.slug}`);
          if (sample.object.kind !== "Pod") expect(r.msg).toMatch(/^\[Implied by gatehouse-/);
        }
      });
    }
  });
}
