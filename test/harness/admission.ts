// Helpers for the admission suites (test/cluster/admission*.test.ts): settings changed through the
// user API and applied by the agent's own pass, then objects created with kubectl as the admin
// user through the real kube-apiserver and Gatekeeper's validating webhook; or, for the suites
// without an agent, the rendered objects applied directly (applyRendered).
import { MANAGED_BY_LABEL } from "../../src/protocol/agent.ts";
import { renderEnvironment, type EnvironmentSettings, type EnvironmentSettingsInput } from "../../src/policies/index.ts";
import type { AgentTestbed } from "./agent-testbed.ts";
import { json } from "./api.ts";
import * as routes from "./routes.ts";
import type { Cluster } from "./cluster.ts";
import type { RunResult } from "./cluster-process.ts";
import { waitUntil } from "./cluster-process.ts";

export type Obj = Record<string, any>;

/** What the API server prints when Gatekeeper's validating webhook refuses a request. */
export const DENIED = 'admission webhook "validation.gatekeeper.sh" denied the request';

/** A unique DNS-1123 name under a prefix (namespaces never finish terminating here). */
let counter = 0;
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36).slice(-4)}${(counter++).toString(36)}`;
}

/** Replaces the whole settings document through the user API (GET for the ETag, PUT with If-Match). */
export async function putSettings(bed: AgentTestbed, settings: EnvironmentSettingsInput): Promise<number> {
  const current = await bed.call("GET", `/v1/environments/${bed.envId}/settings`);
  const etag = current.headers.get("etag");
  if (current.status !== 200 || !etag) throw new Error(`GET settings: ${current.status} ${await current.text()}`);
  const res = await bed.callRoute(routes.settings.putSettings, `/v1/environments/${bed.envId}/settings`, { settings }, { "if-match": etag });
  if (res.status !== 200 && res.status !== 201) throw new Error(`PUT settings: ${res.status} ${await res.text()}`);
  return (await json(res)).revision;
}

/** Merge-patches one control through the user API. */
export async function patchControl(bed: AgentTestbed, control: string, patch: unknown): Promise<number> {
  const res = await bed.callRoute(routes.settings.patchControl, `/v1/environments/${bed.envId}/settings/controls/${control}`, patch);
  if (res.status !== 200) throw new Error(`PATCH ${control}: ${res.status} ${await res.text()}`);
  return (await json(res)).revision;
}

interface LiveConstraint {
  kind: string;
  metadata: { name: string; generation: number };
  spec: { enforcementAction?: string; parameters?: unknown; match?: unknown };
  status?: { byPod?: { enforced?: boolean; observedGeneration?: number }[] };
}

/** Every constraint the agent manages, as the API server has it. */
export async function managedConstraints(cluster: Cluster): Promise<LiveConstraint[]> {
  const sel = `${MANAGED_BY_LABEL}=gatehouse`;
  const templates = await cluster.kubectlJson<{ items: Obj[] }>(["get", "constrainttemplates.templates.gatekeeper.sh", "-l", sel]);
  const out: LiveConstraint[] = [];
  for (const t of templates.items) {
    const kind = String(t.spec.crd.spec.names.kind).toLowerCase();
    const list = await cluster.kubectlJson<{ items: LiveConstraint[] }>(["get", `${kind}.constraints.gatekeeper.sh`, "-l", sel]);
    out.push(...list.items);
  }
  return out;
}

/**
 * Waits until Gatekeeper reports every managed constraint enforced at its current generation:
 * from then on its webhook evaluates exactly these parameters, match and enforcement action.
 */
export async function waitEnforced(cluster: Cluster, timeoutMs = 90_000): Promise<void> {
  await waitUntil(
    "every managed constraint enforced at its current generation",
    async () => {
      const all = await managedConstraints(cluster);
      const pending = all.filter((c) => {
        const byPod = c.status?.byPod ?? [];
        return byPod.length === 0 || !byPod.every((p) => p.enforced === true && (p.observedGeneration ?? -1) >= c.metadata.generation);
      });
      if (pending.length > 0) throw new Error(`not yet enforced: ${pending.map((c) => c.metadata.name).join(", ")}`);
      return all.length > 0;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

/**
 * The rendered templates and constraints of these settings, applied directly (no agent;
 * expansion templates left out): the templates first, each awaited until Gatekeeper has
 * compiled it and its constraint CRD is established, then everything else. Returns what it applied.
 */
export async function applyRendered(cluster: Cluster, settings: EnvironmentSettings, o: { templateTimeoutMs: number }): Promise<Obj[]> {
  const objects = renderEnvironment(settings, new Date()).objects.filter((x) => x.kind !== "ExpansionTemplate");
  const templates = objects.filter((x) => x.kind === "ConstraintTemplate");
  await cluster.applyYaml(templates.map((x) => JSON.stringify(x)).join("\n---\n"));
  for (const t of templates) {
    const name = (t.metadata as { name: string }).name;
    await waitUntil(`template ${name} created`, async () => (await cluster.kubectlJson(["get", "constrainttemplate", name])).status?.created === true, {
      timeoutMs: o.templateTimeoutMs,
      intervalMs: 500,
    });
    await cluster.kubectlOk(["wait", "--for=condition=established", "--timeout=60s", `crd/${name}.constraints.gatekeeper.sh`]);
  }
  await cluster.applyYaml(
    objects
      .filter((x) => x.kind !== "ConstraintTemplate")
      .map((x) => JSON.stringify(x))
      .join("\n---\n"),
  );
  return objects;
}

/**
 * The agent's pass (it must converge), then Gatekeeper enforcing the result. Returns the pass.
 * Gatekeeper reports a constraint enforced once it is in the engine the webhook queries.
 */
export async function converge(bed: AgentTestbed, cluster: Cluster) {
  const pass = await bed.pass();
  if (!pass.ok) throw new Error(`agent pass failed: ${pass.error} ${JSON.stringify(pass.results.filter((r) => r.result === "error"))}`);
  await waitEnforced(cluster);
  return pass;
}

/** `kubectl create -f -` as the admin user; never throws. */
export function create(cluster: Cluster, obj: Obj | Obj[]): Promise<RunResult> {
  const input = Array.isArray(obj) ? JSON.stringify({ apiVersion: "v1", kind: "List", items: obj }) : JSON.stringify(obj);
  return cluster.kubectl(["create", "-f", "-"], { input });
}

/** Creates namespaces (one request per kubectl run); throws on failure. */
export async function createNamespaces(cluster: Cluster, names: readonly string[], labels: Record<string, string> = {}): Promise<void> {
  if (names.length === 0) return;
  const r = await create(
    cluster,
    names.map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name, labels } })),
  );
  if (r.code !== 0) throw new Error(`creating namespaces: ${r.stderr}`);
}

/** The `[constraint] message` lines of a webhook denial (empty when not a webhook denial). */
export function denialLines(stderr: string): { constraint: string; message: string }[] {
  const at = stderr.indexOf(`${DENIED}: `);
  if (at < 0) return [];
  const body = stderr.slice(at + DENIED.length + 2);
  const out: { constraint: string; message: string }[] = [];
  for (const line of body.split("\n")) {
    const m = /^\[([a-z0-9-]+)\] (.*)$/.exec(line.trim());
    if (m) out.push({ constraint: m[1]!, message: m[2]! });
  }
  return out;
}

/** kubectl's `Warning: ...` lines (stderr). */
export function warningLines(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.startsWith("Warning: "));
}

/** An object with a new name and namespace (samples are written for team-a). */
export function placed(obj: Obj, name: string, namespace: string): Obj {
  const copy = structuredClone(obj);
  copy.metadata = { ...(copy.metadata ?? {}), name, namespace };
  return copy;
}

/** The pod spec inside a Pod or workload. */
export function podSpecOf(obj: Obj): Obj {
  if (obj.kind === "Pod") return obj.spec;
  if (obj.kind === "CronJob") return obj.spec.jobTemplate.spec.template.spec;
  return obj.spec.template.spec;
}

/** The latest audit report the agent sent, or undefined before the first. */
export async function auditReport(bed: AgentTestbed): Promise<Obj | undefined> {
  const res = await bed.callRoute(routes.environmentAuditReport.route, `/v1/environments/${bed.envId}/audit-report`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET audit-report: ${res.status} ${await res.text()}`);
  return json(res);
}
