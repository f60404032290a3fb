// Runs the real Gatekeeper engine (gator) over rendered objects and workloads.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toYaml } from "../../src/policies/yaml.ts";
import { toolPath } from "./tools.ts";

export interface GatorResult {
  msg: string;
  enforcementAction: string;
  constraint: { kind: string; metadata: { name: string } };
  violatingObject: { kind: string; metadata: { name: string; namespace?: string } };
  metadata?: { details?: { container?: string; containerKind?: string; field?: string; value?: unknown } };
}

export class GatorError extends Error {}

/**
 * Which engine evaluates templates that carry both: gator (like Gatekeeper) prefers CEL
 * (K8sNativeValidation) whenever its CEL driver is on, its default; rego turns that driver off.
 */
export type GatorEngine = "rego" | "cel";

/**
 * `gator test` over policy objects and resources, all enforcement actions reported. Anything
 * other than exit 0/1 with JSON results, or exit 1 without results (e.g. a template that does not compile),
 * is an error, so a broken Rego fails the test that rendered it.
 */
export function gatorTest(policy: readonly object[], resources: readonly object[], engine: GatorEngine = "rego"): GatorResult[] {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-gator-"));
  try {
    writeFileSync(join(dir, "policy.yaml"), toYaml(policy));
    const files = ["-f", join(dir, "policy.yaml")];
    if (resources.length > 0) {
      writeFileSync(join(dir, "resources.yaml"), toYaml(resources));
      files.push("-f", join(dir, "resources.yaml"));
    }
    const run = spawnSync(toolPath("gator"), ["test", ...files, "-o", "json", `--enable-k8s-native-validation=${engine === "cel"}`], {
      encoding: "utf8",
      maxBuffer: 512 * 1024 * 1024,
    });
    // Exit 0 = nothing denied (warn and dryrun results may still be printed), 1 = denied.
    const out = run.stdout.trim();
    if (run.status === 0 && (out === "" || out === "null")) return [];
    if ((run.status === 0 || run.status === 1) && out.startsWith("[")) {
      const results = JSON.parse(out) as GatorResult[];
      if (run.status === 0 || results.length > 0) return results;
    }
    throw new GatorError(`gator exited ${run.status}: ${run.stderr || out}`.slice(0, 4000));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
