// A control's three names (settings id, slug, kind; see control.ts) are a one-to-one mapping:
// each is unique, and the slug a violation record carries (the constraint's label) leads back to
// exactly one control, and so to its settings key.
import { describe, expect, it } from "vitest";
import { catalogue, controlById } from "./catalogue.ts";
import { CONTROL_LABEL, constraintName, renderConstraint, renderTemplate, templateName } from "./render.ts";
import { Exemptions } from "./common/knobs.ts";

describe("control identifiers", () => {
  it.each(["id", "slug", "kind"] as const)("every control's %s is unique", (key) => {
    const names = catalogue.map((c) => c[key]);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(catalogue.map((c) => [c.id, c] as const))("%s: id, slug and kind have their documented shapes", (id, c) => {
    expect(id).toMatch(/^[a-z][A-Za-z]*$/);
    expect(c.slug).toMatch(/^[a-z]+(-[a-z]+)*$/);
    expect(c.kind).toMatch(/^Gatehouse[A-Z][A-Za-z]*$/);
    expect(controlById.get(id)).toBe(c);
  });

  it.each(catalogue.map((c) => [c.slug, c] as const))("%s: the label on its objects leads back to it", (_slug, c) => {
    const constraint = renderConstraint(
      c,
      { enforcementAction: "deny", exemptions: Exemptions.parse({}), options: c.options.parse({}) },
      Exemptions.parse({}),
      new Date(0),
    );
    const template = renderTemplate(c);
    expect(constraint.metadata.name).toBe(constraintName(c));
    expect(template.metadata.name).toBe(templateName(c));
    for (const obj of [constraint, template]) {
      const found = catalogue.filter((x) => x.slug === obj.metadata.labels[CONTROL_LABEL]);
      expect(found).toEqual([c]);
    }
  });
});
