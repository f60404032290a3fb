// The API server's own Pod Security Admission verdicts (k8s.io/pod-security-admission, run by
// test/tools/psa-verdict), and the module's own fixtures, for the differential suite in test/pss.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { toolPath } from "./tools.ts";

export type PssLevel = "baseline" | "restricted";
export const PSS_LEVELS: readonly PssLevel[] = ["baseline", "restricted"];

export interface PsaVerdict {
  allowed: boolean;
  reasons: string[];
}

/** verdicts[level][version] for one object. */
export type PsaVerdicts = Record<PssLevel, Record<string, PsaVerdict>>;

/** One run of psa-verdict over every object (Pods or workloads), at every level and version. */
export function psaVerdicts(objects: readonly object[], versions: readonly string[]): PsaVerdicts[] {
  const input = objects.map((o) => JSON.stringify(o)).join("\n");
  const run = spawnSync(toolPath("psa"), ["-levels", PSS_LEVELS.join(","), "-versions", versions.join(",")], {
    input,
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  if (run.status !== 0) throw new Error(`psa-verdict exited ${run.status}: ${run.stderr}`.slice(0, 4000));
  const lines = run.stdout.trim().split("\n").filter(Boolean);
  if (lines.length !== objects.length) throw new Error(`psa-verdict answered ${lines.length} of ${objects.length} objects`);
  return lines.map((line, i) => {
    const out = JSON.parse(line) as { index: number; error?: string; verdicts?: PsaVerdicts };
    if (out.index !== i || out.error || !out.verdicts) throw new Error(`psa-verdict on object ${i}: ${out.error ?? line}`);
    return out.verdicts;
  });
}

/**
 * The pod as admission sees it: the API server defaults a volume that names no source to
 * `emptyDir: {}` before any admission plugin (PSA or Gatekeeper) runs, and the library's
 * fixtures rely on it (restrictedvolumes0 has a bare `{name: volume0}`). Both sides of the
 * differential suite get the defaulted object, as both would in a cluster.
 */
export function asAdmitted<T extends object>(object: T): T {
  const copy = structuredClone(object) as Record<string, any>;
  const specs = [copy.spec, copy.spec?.template?.spec, copy.spec?.jobTemplate?.spec?.template?.spec];
  for (const spec of specs) {
    for (const v of Array.isArray(spec?.volumes) ? spec.volumes : []) {
      if (v && typeof v === "object" && Object.keys(v).every((k) => k === "name")) v.emptyDir = {};
    }
  }
  return copy as T;
}

export interface PsaFixture {
  level: PssLevel;
  /** The fixture folder: the PSS version whose checks generated it (v1.0 … v1.35). */
  version: string;
  expect: "pass" | "fail";
  file: string;
  /** The pod, defaulted as the API server would (asAdmitted). */
  pod: Record<string, unknown>;
}

/** Every fixture of every level and version folder of the module's test/testdata. */
export function psaFixtures(): PsaFixture[] {
  const root = toolPath("psa-fixtures");
  const out: PsaFixture[] = [];
  for (const level of PSS_LEVELS) {
    for (const version of readdirSync(join(root, level)).sort()) {
      for (const expect of ["pass", "fail"] as const) {
        const dir = join(root, level, version, expect);
        for (const file of readdirSync(dir).sort()) {
          const pod = asAdmitted(parse(readFileSync(join(dir, file), "utf8")) as Record<string, unknown>);
          out.push({ level, version, expect, file: `${level}/${version}/${expect}/${file}`, pod });
        }
      }
    }
  }
  return out;
}

/** The fixtures, one per distinct pod (most version folders repeat the previous version's), first file first. */
export function distinctFixtures(): PsaFixture[] {
  const byContent = new Map<string, PsaFixture>();
  for (const f of psaFixtures()) {
    const key = JSON.stringify(f.pod.spec) + JSON.stringify((f.pod.metadata as { annotations?: unknown }).annotations ?? {});
    if (!byContent.has(key)) byContent.set(key, f);
  }
  return [...byContent.values()];
}
