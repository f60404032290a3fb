// Pod Security Standards, exactly: both presets, rendered at every PSS version an environment can
// pin and run through real gator, must give every pod the verdict the API server's own PSA
// library (psa-verdict, at that version) gives it — on the library's own fixtures (every level
// and version folder) and on boundary pods from boundary-pods.ts. Namespace exemptions are
// removed so only policy semantics are compared (the defaults: exemptions.test.ts).
//
// Versions whose presets render identically share one gator run, compared with PSA at each of
// them. The group holding `latest` gets every boundary pod; older groups get the boundary pods
// whose PSA verdict there differs from latest's, plus an eighth of the rest.
// Seeded: GATEHOUSE_PSS_SEED=<n> replays a run (the seed is printed with any failure);
// GATEHOUSE_PSS_RUNS sets the number of generated objects (default 2,000).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PSS_VERSIONS } from "../../src/policies/index.ts";
import { asAdmitted, distinctFixtures, PSS_LEVELS, type PssLevel, psaVerdicts } from "../harness/psa.ts";
import { boundaryObject } from "./boundary-pods.ts";
import { type Case, disagreements, gatorDenials, renderPreset, report } from "./differential.ts";

const SEED = Number(process.env.GATEHOUSE_PSS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.GATEHOUSE_PSS_RUNS ?? 2_000);
const VERSIONS = [...PSS_VERSIONS, "latest"] as const;

/** The fixtures, one case per distinct pod. */
function fixtureCases(): Omit<Case, "psa">[] {
  return distinctFixtures().map((f, i) => ({ name: `fixture-${i}`, origin: f.file, object: f.pod }));
}

function generatedCases(): Omit<Case, "psa">[] {
  return fc.sample(boundaryObject, { seed: SEED, numRuns: RUNS }).map((object, i) => ({
    name: `boundary-${i}`,
    origin: `boundary object ${i} (GATEHOUSE_PSS_SEED=${SEED})`,
    object: asAdmitted(object),
  }));
}

function withVerdicts(cases: Omit<Case, "psa">[]): Case[] {
  const verdicts = psaVerdicts(
    cases.map((c) => c.object),
    VERSIONS,
  );
  return cases.map((c, i) => ({ ...c, psa: verdicts[i]! }));
}

const fixtures = withVerdicts(fixtureCases());
const boundary = withVerdicts(generatedCases());

/** Versions whose rendered preset checks the same (annotations, which name the version, aside), newest group first. */
function versionGroups(level: PssLevel) {
  const groups = new Map<string, { versions: string[]; policy: object[] }>();
  for (const version of [...VERSIONS].reverse()) {
    const policy = renderPreset(level, { pssVersion: version });
    const key = JSON.stringify(policy.map((o) => ({ ...o, metadata: { ...o.metadata, annotations: {} } })));
    groups.set(key, { versions: [...(groups.get(key)?.versions ?? []), version], policy });
  }
  return [...groups.values()];
}

describe.each(PSS_LEVELS)("PSS %s preset vs the API server's PSA library", (level) => {
  const groups = versionGroups(level);

  it("renders differently exactly where PSS changed (v1.32 sysctls, v1.34 probe hosts, v1.35 user namespaces)", () => {
    expect(groups.map((g) => g.versions.join(" "))).toEqual(["latest v1.36 v1.35", "v1.34", "v1.33 v1.32", "v1.31"]);
  });

  it.each(groups.map((g) => [g.versions.join(", "), g] as const))(
    "agrees at %s on the fixtures and boundary pods",
    (_name, group) => {
      const latest = group.versions.includes("latest");
      const sensitive = (c: Case) => group.versions.some((v) => c.psa[level][v]!.allowed !== c.psa[level].latest!.allowed);
      const pods = latest ? boundary : boundary.filter((c, i) => sensitive(c) || i % 8 === 0);
      const cases = [...fixtures, ...pods];
      // The cases reach both verdicts at this level, so agreement is not vacuous.
      expect(pods.some((c) => c.psa[level][group.versions[0]!]!.allowed)).toBe(true);
      expect(pods.some((c) => !c.psa[level][group.versions[0]!]!.allowed)).toBe(true);
      const denied = gatorDenials(group.policy, cases);
      for (const version of group.versions) {
        const found = disagreements(denied, cases, level, version);
        const header = `${level} ${version}: ${fixtures.length} fixture pods, ${pods.length} boundary objects (replay: GATEHOUSE_PSS_SEED=${SEED})`;
        expect(found, report(found, header)).toEqual([]);
      }
    },
    900_000,
  ); // one gator run over thousands of objects; minutes on a loaded 2-core machine
});
