// Option coverage of the samples (issue 20's parity suite runs CEL and Rego over every sample, so a
// sample is what proves an option's CEL): for every control with CEL, each top-level option of its
// schema, and each key of an option that is an object (users-and-groups' runAsUser.rule, …), is set
// away from its default in at least one sample that is admitted and one that is refused. An option
// no sample moves, or moves only one way, has a CEL branch that parity never exercises.
import { isDeepStrictEqual } from "node:util";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { catalogue } from "../../src/policies/catalogue.ts";
import type { AnyControl } from "../../src/policies/control.ts";
import type { Sample } from "../../src/policies/sample.ts";

/**
 * Options that cannot have both kinds of sample, and why. Keep it minimal: an entry here is an
 * option whose CEL only the other kind of sample reaches.
 */
const ONE_WAY: Readonly<Record<string, string>> = {
  // Unmasked (the only value besides the default) allows every proc mount type: nothing to refuse.
  "proc-mount.allowed": "allowed: Unmasked admits every proc mount type, so no sample with it can be refused",
  // A refusal under it needs a non-Default procMount without hostUsers: false, which the API server
  // refuses itself (Unmasked needs hostUsers: false), and samples also run on a real cluster
  // (test/cluster/admission-controls); the PSS baseline preset's corpus in parity has such pods.
  "proc-mount.anyInUserNamespace": "a pod it leaves refused (non-Default procMount, hostUsers not false) is one the API server refuses before admission",
};

const withCel = catalogue.filter((c) => c.cel);
const samplesOf = async (slug: string) => ((await import(`../../src/policies/${slug}/samples.ts`)) as { samples: Sample[] }).samples;

/** The option paths of a control: its schema's top-level keys, and one level into object options. */
function optionPaths(control: AnyControl): string[][] {
  const schema = z.toJSONSchema(control.options, { io: "input" }) as { properties?: Record<string, unknown> };
  const defaults = control.options.parse({}) as Record<string, unknown>;
  return Object.keys(schema.properties ?? {}).flatMap((key) => {
    const d = defaults[key];
    const nested = d !== null && typeof d === "object" && !Array.isArray(d) ? Object.keys(d).map((sub) => [key, sub]) : [];
    return [[key], ...nested];
  });
}

const at = (o: unknown, path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

/** For each option path: the samples setting it away from its default, admitted and refused. */
function coverage(control: AnyControl, samples: readonly Sample[]) {
  const defaults = control.options.parse({});
  return optionPaths(control).map((path) => {
    const moved = samples.filter((s) => !isDeepStrictEqual(at(control.options.parse(s.options ?? {}), path), at(defaults, path)));
    return {
      option: `${control.slug}.${path.join(".")}`,
      admitted: moved.filter((s) => s.expect.length === 0).map((s) => s.name),
      refused: moved.filter((s) => s.expect.length > 0).map((s) => s.name),
    };
  });
}

describe("the samples of every control with CEL", () => {
  it.each(withCel.map((c) => [c.slug, c] as const))("%s: each option is set in an admitted and in a refused sample", async (_, control) => {
    for (const c of coverage(control, await samplesOf(control.slug))) {
      if (c.option in ONE_WAY) {
        // Exempt only from the side it cannot have; the other side must still be there.
        expect(c.admitted.length + c.refused.length, `${c.option}: no sample sets it`).toBeGreaterThan(0);
        continue;
      }
      expect(c.admitted, `${c.option}: no admitted sample sets it away from its default`).not.toEqual([]);
      expect(c.refused, `${c.option}: no refused sample sets it away from its default`).not.toEqual([]);
    }
  });

  it("exempt only options that exist, and still cannot have both kinds", async () => {
    for (const option of Object.keys(ONE_WAY)) {
      const control = withCel.find((c) => option.startsWith(`${c.slug}.`));
      expect(control, option).toBeDefined();
      const found = coverage(control!, await samplesOf(control!.slug)).find((c) => c.option === option);
      expect(found, `${option} is no option path`).toBeDefined();
      // Once samples of both kinds exist, the exemption is stale and must go.
      expect(found!.admitted.length === 0 || found!.refused.length === 0, `${option} is covered both ways: remove it from ONE_WAY`).toBe(true);
    }
  });

  it("sees every option of a control with options (the schema walk finds them)", () => {
    const users = withCel.find((c) => c.slug === "users-and-groups")!;
    expect(optionPaths(users).map((p) => p.join("."))).toEqual(
      expect.arrayContaining(["runAsUser", "runAsUser.requireRunAsNonRoot", "runAsUser.exemptUserNamespaces", "runAsGroup", "supplementalGroups", "fsGroup"]),
    );
    const seccomp = withCel.find((c) => c.slug === "seccomp")!;
    expect(
      optionPaths(seccomp)
        .map((p) => p.join("."))
        .sort(),
    ).toEqual(["allowUnset", "allowed", "checkOverridden"]);
  });
});
