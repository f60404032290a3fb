// Paths to the real tools, built once per machine by test/tools/build-tools.sh (cached outside
// the repo, keyed by version).
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const script = fileURLToPath(new URL("../tools/build-tools.sh", import.meta.url));
const cache = new Map<string, string>();

/**
 * - `gator`, `gatekeeper`, `etcd`, `opa`, `helm`, `psa`: the binary's path (`psa` is psa-verdict,
 *   the API server's Pod Security Admission checks as a CLI);
 * - `kube`: the directory holding `kube-apiserver` and `kubectl`;
 * - `crds`: the directory of Gatekeeper's CRD manifests;
 * - `policyreport-crds`: the directory of the wgpolicyk8s.io PolicyReport CRD manifests;
 * - `psa-fixtures`: k8s.io/pod-security-admission's test/testdata directory;
 * - `wsproxy`: the Go WebSocket→TCP proxy of test/tools/wsproxy (bench:workers; test/harness/go-wsproxy.ts).
 */
export type Tool = "gator" | "gatekeeper" | "etcd" | "kube" | "crds" | "opa" | "helm" | "policyreport-crds" | "psa" | "psa-fixtures" | "wsproxy";

export function toolPath(tool: Tool): string {
  let path = cache.get(tool);
  if (!path) {
    // Build output goes to our stderr so a first run shows its progress.
    path = execFileSync("bash", [script, tool], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim();
    cache.set(tool, path);
  }
  return path;
}
