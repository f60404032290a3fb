// Whether Gatekeeper generated the ValidatingAdmissionPolicies (from templates with CEL and
// generateVAP) and their bindings (from constraints scoped to vap.k8s.io) that the desired state
// asks for, read from what Gatekeeper writes in their status. Without this a team that moved a
// control to the API server could not tell whether anything refuses pods there: an old
// Gatekeeper, one without the generate operation or a cluster without the VAP API just never
// generates them. Pure: called once per pass from reconcile.ts.
import type { AgentStatusReport, KubeObject, VapObjectState } from "../src/protocol/agent.ts";
import type { LiveObject } from "./kube.ts";

type Vap = NonNullable<AgentStatusReport["gatekeeper"]["vap"]>;
const VAP_POINT = "vap.k8s.io";

interface Code {
  engine?: string;
  source?: { generateVAP?: boolean };
}
interface ByPod {
  observedGeneration?: number;
  vapGenerationStatus?: { state?: string; warning?: string; observedGeneration?: number };
  enforcementPointsStatus?: { enforcementPoint?: string; state?: string; message?: string; observedGeneration?: number }[];
  errors?: { message?: string }[];
}

const spec = (o: object) => ((o as { spec?: unknown }).spec ?? {}) as Record<string, unknown>;
const byPod = (o: LiveObject | undefined): ByPod[] => (o?.status?.byPod ?? []) as ByPod[];
const nameOf = (o: { metadata?: { name?: string } }) => o.metadata?.name ?? "";

/** Whether Gatekeeper is to generate a ValidatingAdmissionPolicy from this template (vap-denials.ts reads its refusals). */
export function wantsPolicy(t: KubeObject): boolean {
  const targets = (spec(t).targets ?? []) as { code?: Code[] }[];
  return targets.some((x) => (x.code ?? []).some((c) => c.engine === "K8sNativeValidation" && c.source?.generateVAP === true));
}

function wantsBinding(c: KubeObject): boolean {
  if (spec(c).enforcementAction !== "scoped") return false;
  const scoped = (spec(c).scopedEnforcementActions ?? []) as { enforcementPoints?: { name?: string }[] }[];
  return scoped.some((a) => (a.enforcementPoints ?? []).some((p) => p.name === VAP_POINT || p.name === "*"));
}

/** Generated once every Gatekeeper pod that reported says so; an error from any pod wins. */
function fold(states: { state?: string | undefined; message?: string | undefined }[]): Pick<VapObjectState, "state" | "message"> {
  const error = states.find((s) => s.state === "error");
  if (error) return { state: "error", ...(error.message ? { message: error.message.slice(0, 4096) } : {}) };
  if (states.length > 0 && states.every((s) => s.state === "generated")) return { state: "generated" };
  const waiting = states.find((s) => s.message);
  return { state: "pending", ...(waiting?.message ? { message: waiting.message.slice(0, 4096) } : {}) };
}

function policy(t: KubeObject, live: LiveObject | undefined): VapObjectState {
  const generation = live?.metadata?.generation ?? 0;
  // A status about an older generation of the template says nothing about this one.
  const states = byPod(live)
    .map((p) => p.vapGenerationStatus)
    .filter((s): s is NonNullable<ByPod["vapGenerationStatus"]> => !!s && (s.observedGeneration ?? generation) >= generation)
    .map((s) => ({ state: s.state, message: s.warning }));
  return { source: nameOf(t), name: `gatekeeper-${nameOf(t)}`, ...fold(states) };
}

function binding(c: KubeObject, live: LiveObject | undefined): VapObjectState {
  const pods = byPod(live);
  const states = pods.flatMap((p) => (p.enforcementPointsStatus ?? []).filter((e) => e.enforcementPoint === VAP_POINT));
  // Gatekeeper reports a binding it refuses to make among the constraint's errors instead.
  const refused = pods.flatMap((p) => p.errors ?? []).find((e) => /ValidatingAdmissionPolicyBinding/.test(e.message ?? ""));
  const folded = refused ? { state: "error" as const, message: (refused.message ?? "").slice(0, 4096) } : fold(states);
  return { source: nameOf(c), name: `gatekeeper-${c.kind.toLowerCase()}-${nameOf(c)}`, ...folded };
}

/** null when no desired object asks for the API server. */
export function vapStatus(desired: readonly KubeObject[], liveTemplates: readonly LiveObject[], liveConstraints: readonly LiveObject[]): Vap | null {
  const find = (live: readonly LiveObject[], o: KubeObject) => live.find((l) => l.kind === o.kind && nameOf(l) === nameOf(o));
  const policies = desired.filter((o) => o.kind === "ConstraintTemplate" && wantsPolicy(o)).map((t) => policy(t, find(liveTemplates, t)));
  const bindings = desired
    .filter((o) => o.kind !== "ConstraintTemplate" && o.apiVersion.startsWith("constraints.gatekeeper.sh/") && wantsBinding(o))
    .map((c) => binding(c, find(liveConstraints, c)));
  if (policies.length === 0 && bindings.length === 0) return null;
  return { generated: [...policies, ...bindings].every((o) => o.state === "generated"), policies, bindings };
}
