// What the agent cluster suites (test/cluster/agent*.cluster.test.ts) read back after a pass: the
// identity of every object the agent manages, and the agent as the API reports it.
import { MANAGED_BY_LABEL } from "../../src/protocol/agent.ts";
import type { AgentTestbed } from "./agent-testbed.ts";
import { json } from "./api.ts";
import type { Cluster } from "./cluster.ts";
import * as routes from "./routes.ts";

export const TEMPLATE_API = "constrainttemplates.templates.gatekeeper.sh";

/** A Kubernetes object as kubectl returns it, with the metadata these suites compare. */
export interface Obj {
  kind: string;
  metadata: { name: string; uid: string; generation: number; resourceVersion: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  status?: any;
}

/**
 * Every object the agent manages, by kind/name → uid and generation: what proves an object was
 * neither rewritten nor recreated (resourceVersion also moves when Gatekeeper writes status).
 */
export async function managedVersions(cluster: Cluster): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const sel = `${MANAGED_BY_LABEL}=gatehouse`;
  const templates = await cluster.kubectlJson<{ items: Obj[] }>(["get", TEMPLATE_API, "-l", sel]);
  const kinds = templates.items.map((t) => t.spec.crd.spec.names.kind as string);
  const lists = [templates, await cluster.kubectlJson<{ items: Obj[] }>(["get", "expansiontemplate.expansion.gatekeeper.sh", "-l", sel])];
  for (const kind of kinds) lists.push(await cluster.kubectlJson<{ items: Obj[] }>(["get", `${kind.toLowerCase()}.constraints.gatekeeper.sh`, "-l", sel]));
  for (const l of lists) for (const o of l.items) out.set(`${o.kind}/${o.metadata.name}`, `${o.metadata.uid}/${o.metadata.generation}`);
  return out;
}

/** GET /v1/environments/{id}/agent for the testbed's environment. */
export async function agentView(bed: AgentTestbed) {
  return json(await bed.callRoute(routes.environmentAgent.route, `/v1/environments/${bed.envId}/agent`));
}
