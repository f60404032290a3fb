// Real helm (built by test/tools/build-tools.sh helm) over the agent's chart: lint and template,
// with Helm's own caches kept out of $HOME.
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { toolPath } from "./tools.ts";

export const AGENT_CHART = fileURLToPath(new URL("../../deploy/helm/gatehouse-agent", import.meta.url));

export function helm(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const home = join(tmpdir(), "gatehouse-helm");
  const env = { PATH: process.env.PATH, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data") };
  const r = spawnSync(toolPath("helm"), args, { encoding: "utf8", env, timeout: 60_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of the agent's chart into `namespace` with these values (as strings): its objects. */
export function renderAgentChart(values: Record<string, string>, namespace: string): Record<string, any>[] {
  const sets = Object.entries(values).flatMap(([k, v]) => ["--set-string", `${k}=${v}`]);
  const r = helm(["template", "gatehouse-agent", AGENT_CHART, "--namespace", namespace, ...sets]);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as Record<string, any>)
    .filter((o) => o);
}
