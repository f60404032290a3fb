// The hash every rendered object carries (and the agents' ETags are built from) must not change
// when its canonical form moved from hand-written code to the RFC 8785 library: a changed hash
// would make every deployed agent re-apply everything. The hand-written form is kept here as the
// oracle, and compared on the real rendered output and on random JSON values.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalogue } from "./catalogue.ts";
import { canonicalJson, contentHash } from "./hash.ts";
import { applyPreset, EnvironmentSettings, PRESET_NAMES, renderEnvironment } from "./index.ts";

/** src/policies/hash.ts before RFC 8785 (canonicalize): keys sorted by UTF-16 code units. */
function handWritten(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(handWritten).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${handWritten(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const NOW = new Date("2026-06-01T00:00:00Z");
const render = (input: unknown) => renderEnvironment(EnvironmentSettings.parse(input), NOW);
const allControls = { controls: Object.fromEntries(catalogue.map((c) => [c.id, { enabled: true }])) };

describe("contentHash (RFC 8785)", () => {
  it("is byte-identical to the hand-written form on both presets and on every control", () => {
    const documents = [...PRESET_NAMES.map((p) => applyPreset({}, p)), allControls, {}];
    for (const doc of documents) {
      const { objects, summary } = render(doc);
      // The per-object annotation, the desired-state hash and the /rendered ETag's input.
      for (const o of objects) expect(canonicalJson(o)).toBe(handWritten(o));
      expect(canonicalJson(objects)).toBe(handWritten(objects));
      expect(canonicalJson({ objects, summary })).toBe(handWritten({ objects, summary }));
    }
  });

  it("is byte-identical on random JSON values, whatever their key order", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        expect(canonicalJson(v)).toBe(handWritten(v));
      }),
      { numRuns: 2000 },
    );
  });

  it("sorts keys by UTF-16 code units and leaves out undefined properties", () => {
    expect(canonicalJson({ b: 1, a: [1, "x", null, true], é: 0, Z: { y: undefined, x: 2 } })).toBe('{"Z":{"x":2},"a":[1,"x",null,true],"b":1,"é":0}');
    expect(contentHash([])).toBe("sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945");
  });

  it("refuses what JSON cannot carry instead of hashing something else", () => {
    expect(() => canonicalJson(Number.NaN)).toThrow();
    expect(() => canonicalJson({ a: Infinity })).toThrow();
    expect(() => canonicalJson("\ud800")).toThrow();
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
  });
});
