// Pod Security Standards, exactly: both presets, rendered and run through real gator, must give
// every pod the verdict the API server's own PSA library (psa-verdict) gives it — on the
// library's own fixtures (every level and version folder) and on boundary pods from
// boundary-pods.ts. Namespace exemptions are removed so only policy semantics are compared.
// Seeded: GATEHOUSE_PSS_SEED=<n> replays a run (the seed is printed with any failure);
// GATEHOUSE_PSS_RUNS sets the number of generated objects (default 2,000).
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { asAdmitted, PSS_LEVELS, psaFixtures, psaVerdicts } from "../harness/psa.ts";
import { boundaryObject } from "./boundary-pods.ts";
import { type Case, disagreements, renderPreset, report } from "./differential.ts";

const SEED = Number(process.env.GATEHOUSE_PSS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const RUNS = Number(process.env.GATEHOUSE_PSS_RUNS ?? 2_000);
const VERSION = "latest";

/** The fixtures, one case per distinct pod (most folders repeat the previous version's). */
function fixtureCases(): Omit<Case, "psa">[] {
  const byContent = new Map<string, Omit<Case, "psa">>();
  for (const f of psaFixtures()) {
    const key = JSON.stringify(f.pod.spec) + JSON.stringify((f.pod.metadata as { annotations?: unknown }).annotations ?? {});
    if (!byContent.has(key)) byContent.set(key, { name: `fixture-${byContent.size}`, origin: f.file, object: f.pod });
  }
  return [...byContent.values()];
}

function generatedCases(): Omit<Case, "psa">[] {
  return fc.sample(boundaryObject, { seed: SEED, numRuns: RUNS }).map((object, i) => ({
    name: `boundary-${i}`,
    origin: `boundary pod ${i} of seed ${SEED} (GATEHOUSE_PSS_SEED=${SEED})`,
    object: asAdmitted(object),
  }));
}

function withVerdicts(cases: Omit<Case, "psa">[]): Case[] {
  const verdicts = psaVerdicts(
    cases.map((c) => c.object),
    [VERSION],
  );
  return cases.map((c, i) => ({ ...c, psa: verdicts[i]! }));
}

describe.each(PSS_LEVELS)("PSS %s preset vs the API server's PSA library", (level) => {
  const policy = renderPreset(level);

  it("agrees on every fixture of k8s.io/pod-security-admission (every version folder)", () => {
    const cases = withVerdicts(fixtureCases());
    expect(cases.length).toBeGreaterThan(100);
    const found = disagreements(policy, cases, level, VERSION);
    expect(found, report(found, `${level} ${VERSION}, ${cases.length} distinct fixture pods`)).toEqual([]);
  });

  it(`agrees on ${RUNS} boundary pods and workloads (seed ${SEED})`, () => {
    const cases = withVerdicts(generatedCases());
    // The generator reaches both verdicts at this level, so agreement is not vacuous.
    expect(cases.some((c) => c.psa[level][VERSION]!.allowed)).toBe(true);
    expect(cases.some((c) => !c.psa[level][VERSION]!.allowed)).toBe(true);
    const found = disagreements(policy, cases, level, VERSION);
    expect(found, report(found, `${level} ${VERSION}, seed ${SEED} (replay: GATEHOUSE_PSS_SEED=${SEED})`)).toEqual([]);
  });
});
