// What the agent reads off Gatekeeper's own status: whether a ConstraintTemplate is compiled
// (and its constraint CRD established), and whether Gatekeeper's audit is still running. Pure
// functions of observed objects, used by the reconcile pass (reconcile.ts).
import type { AgentStatusReport, KubeObject, TemplateHealth } from "../src/protocol/agent.ts";
import type { CrdState, LiveObject } from "./kube.ts";

export const crdName = (kind: string) => `${kind.toLowerCase()}.constraints.gatekeeper.sh`;
export const templateKind = (t: object) => ((t as { spec?: unknown }).spec as { crd?: { spec?: { names?: { kind?: string } } } })?.crd?.spec?.names?.kind;

/**
 * Is Gatekeeper's audit running? The newest status.auditTimestamp of the managed constraints must
 * be at most staleAfterSeconds old; a constraint never audited counts from its creation, so a new
 * one is not stale at once. null without managed constraints: nothing to judge by.
 */
export function auditHealth(constraints: LiveObject[], now: Date, staleAfterSeconds: number): NonNullable<AgentStatusReport["gatekeeper"]["audit"]> | null {
  if (constraints.length === 0) return null;
  // Timestamps are RFC 3339 strings from the API server (Dates only in hand-made objects).
  const ms = (t: unknown) => (t instanceof Date ? t.getTime() : typeof t === "string" ? Date.parse(t) : NaN);
  const times = (f: (c: LiveObject) => unknown) => constraints.map((c) => ms(f(c))).filter(Number.isFinite);
  const audits = times((c) => c.status?.auditTimestamp);
  const lastAudit = audits.length ? Math.max(...audits) : null;
  const since = lastAudit ?? Math.min(...times((c) => c.metadata?.creationTimestamp), now.getTime());
  return {
    lastAuditAt: lastAudit === null ? null : new Date(lastAudit).toISOString(),
    staleAfterSeconds,
    fresh: now.getTime() - since <= staleAfterSeconds * 1000,
  };
}

interface TemplateStatus {
  created?: boolean;
  byPod?: { id?: string; observedGeneration?: number; errors?: { code?: string; message?: string }[] }[];
}

export function templateHealth(want: KubeObject, live: LiveObject[], crds: Map<string, CrdState>): TemplateHealth {
  const t = live.find((l) => l.metadata?.name === want.metadata.name);
  const status = (t?.status ?? {}) as TemplateStatus;
  const generation = t?.metadata?.generation ?? 0;
  // Gatekeeper's per-pod status says which generation it compiled; an older one is not "created" yet.
  const current = (status.byPod ?? []).every((p) => (p.observedGeneration ?? generation) >= generation);
  const kind = templateKind(want) ?? "";
  return {
    name: want.metadata.name,
    created: status.created === true && current,
    crdEstablished: crds.get(crdName(kind))?.established ?? false,
    errors: (status.byPod ?? []).flatMap((p) =>
      (p.errors ?? []).map((e) => ({ pod: (p.id ?? "").slice(0, 253), code: (e.code ?? "").slice(0, 253), message: (e.message ?? "").slice(0, 4096) })),
    ),
  };
}
