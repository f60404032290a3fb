// The reconcile loop, one pass at a time (level-based and idempotent, like a controller-runtime
// reconciler):
//
//   fetch desired state (304 → keep the last one) ── API error: throw, touch nothing (fail static)
//   → Gatekeeper installed? (no → report it, apply nothing)
//   → observe every managed object (label managed-by=gatehouse)
//   → apply ConstraintTemplates that are missing or drifted; one not yet created by Gatekeeper
//     (or its CRD not established) ends the pass early with a requeue in REQUEUE_MS — never a
//     wait inside the pass — and is an error only after templateTimeoutMs
//   → apply Constraints and ExpansionTemplates that are missing or drifted
//   → prune managed objects no longer desired (only when everything above succeeded)
//   → Gatekeeper's health: its webhook's ready endpoints, how recent its audit is
//   → report status (also the heartbeat) → push the audit report when it changed
//
// A pass that changes nothing makes no write request to the Kubernetes API: drift is detected by
// comparing what was read, and only what differs is applied. What it reads comes from the
// informers behind Kube (kube.ts), so it makes no read request either.
import type { Logger } from "pino";
import {
  AUDIT_STALE_AFTER_INTERVALS,
  FIELD_MANAGER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  type AgentStatusReport,
  type DesiredState,
  type KubeObject,
  type ObjectResult,
  type TemplateHealth,
} from "../src/protocol/agent.ts";
import { ApiError, type ApiClient, type Fetched } from "./api-client.ts";
import type { ownerResolver, SentCounts } from "./admission-events.ts";
import type { controllerResolver } from "./vap-denials.ts";
import { auditHealth, crdName, templateHealth, templateKind } from "./gatekeeper-health.ts";
import { pushAdmissionEvents, pushAudit, writePolicyReports } from "./reports.ts";

export { auditHealth };
import {
  CONSTRAINT_API,
  emitsAdmissionEvents,
  EXPANSION_API,
  kubeMessage,
  kubeStatus,
  TEMPLATE_API,
  type CrdState,
  type Kube,
  type LiveObject,
} from "./kube.ts";
import type { AgentMetrics } from "./metrics.ts";
import { covers, inSyncCached, specEquals, strayFields, withDesired } from "./drift.ts";
import { vapStatus } from "./vap-status.ts";

/** Replaces (409 retries included) one object may take in one pass before it is an error. */
export const MAX_REPLACE_ATTEMPTS = 5;
/** How soon a pass that waits for Gatekeeper to compile a template runs again. */
export const REQUEUE_MS = 1000;

const describeDrift = (want: KubeObject, live: LiveObject) =>
  covers((want as { spec?: unknown }).spec, live.spec) ? `fields not ours: ${strayFields(want, live).join(", ")}` : "the spec does not hold the desired values";

export interface ReconcileDeps {
  api: ApiClient;
  kube: Kube;
  log: Logger;
  metrics: AgentMetrics;
  agentVersion: string;
  templateTimeoutMs: number;
  auditResendMs: number;
  gatekeeperNamespace: string;
  /** Gatekeeper's --audit-interval (default 60 s): its audit is stale after AUDIT_STALE_AFTER_INTERVALS of them. */
  gatekeeperAuditIntervalSeconds?: number;
  /** The Service in front of Gatekeeper's webhook (default gatekeeper-webhook-service). */
  gatekeeperWebhookService?: string;
  now?: () => Date;
}

/** What the agent remembers between passes (nothing is persisted: a restart re-reads everything). */
export interface AgentState {
  etag: string | null;
  desired: DesiredState | null;
  appliedRevision: number | null;
  lastSuccessAt: Date | null;
  audit: { fingerprint: string; sentAt: number } | null;
  /** Admission Events already forwarded (uid → count), and the owner lookups' caches (Gatekeeper's Events; FailedCreate's, vap-denials.ts). */
  admission: { sent: SentCounts; resolveOwner: ReturnType<typeof ownerResolver> | null; resolveController?: ReturnType<typeof controllerResolver> };
  /** Templates Gatekeeper has not compiled yet: name → since when (ms), for templateTimeoutMs. */
  templatesPending: Map<string, number>;
  /** Templates seen compiled: name → the generation Gatekeeper compiled. */
  templatesCompiled: Map<string, number>;
}

export const initialState = (): AgentState => ({
  etag: null,
  desired: null,
  appliedRevision: null,
  lastSuccessAt: null,
  audit: null,
  admission: { sent: new Map(), resolveOwner: null },
  templatesPending: new Map(),
  templatesCompiled: new Map(),
});

export interface PassResult {
  /** The cluster is at the desired revision and the status reached the API. */
  ok: boolean;
  revision: number;
  pollIntervalSeconds: number;
  /** Write requests made to the Kubernetes API in this pass (applies, replaces, deletes). */
  writes: number;
  results: ObjectResult[];
  error: string | null;
  /** Set when the pass stopped early to wait for Gatekeeper: run the next one after this long. */
  requeueAfterMs: number | null;
}

const key = (o: { apiVersion?: string; kind?: string; metadata?: { name?: string } }) => `${o.apiVersion}|${o.kind}|${o.metadata?.name}`;

export async function reconcileOnce(deps: ReconcileDeps, state: AgentState): Promise<PassResult> {
  const now = deps.now ?? (() => new Date());
  const { kube, metrics, log } = deps;
  const started = performance.now();

  // 1. Desired state. Throws on any API failure, before anything in the cluster is touched.
  let fetched: Fetched;
  try {
    fetched = await deps.api.fetchDesired(state.etag);
  } catch (e) {
    metrics.errors.inc({ stage: "fetch" });
    throw e;
  }
  if (fetched.changed) {
    state.desired = fetched.desired;
    state.etag = fetched.etag;
    log.info({ revision: fetched.desired.revision, objects: fetched.desired.objects.length }, "desired state fetched");
  }
  const desired = state.desired;
  if (!desired) throw new ApiError("the API answered 304 before sending any desired state");
  metrics.desiredRevision.set(desired.revision);

  const pass: Pass = { results: [], writes: 0, error: null, templates: [], constraints: [], liveTemplates: [], waiting: [] };
  const gatekeeper: AgentStatusReport["gatekeeper"] = { installed: false, version: null };
  let kubernetesVersion: string | null = null;
  try {
    kubernetesVersion = await kube.kubernetesVersion();
    gatekeeper.installed = await kube.gatekeeperInstalled();
    if (gatekeeper.installed) {
      const controller = await kube.gatekeeperController(deps.gatekeeperNamespace);
      gatekeeper.version = controller?.version ?? null;
      gatekeeper.admissionEvents = controller ? emitsAdmissionEvents(controller.args) : null;
      await sync(deps, desired, pass, state);
      if (pass.waiting.length === 0) pass.writes += await writePolicyReports(deps, pass.constraints);
      const service = deps.gatekeeperWebhookService ?? "gatekeeper-webhook-service";
      const readyEndpoints = await kube.gatekeeperWebhookEndpoints(deps.gatekeeperNamespace, service);
      gatekeeper.webhook = readyEndpoints === null ? null : { service, readyEndpoints, ready: readyEndpoints > 0 };
      gatekeeper.audit = auditHealth(pass.constraints, now(), (deps.gatekeeperAuditIntervalSeconds ?? 60) * AUDIT_STALE_AFTER_INTERVALS);
      const vap = vapStatus(desired.objects, pass.liveTemplates, pass.constraints);
      if (vap) gatekeeper.vap = vap;
    } else {
      pass.error =
        "Gatekeeper is not installed: the CRD constrainttemplates.templates.gatekeeper.sh does not exist. Install Gatekeeper; the agent keeps polling.";
    }
  } catch (e) {
    metrics.errors.inc({ stage: "kube" });
    pass.error = `reading the cluster failed: ${kubeMessage(e)}`;
  }

  const complete = pass.error === null && pass.waiting.length === 0;
  if (complete) {
    state.appliedRevision = desired.revision;
    state.lastSuccessAt = now();
    metrics.appliedRevision.set(desired.revision);
    metrics.lastSuccess.set(state.lastSuccessAt.getTime() / 1000);
  } else if (pass.error !== null) {
    log.warn({ revision: desired.revision, error: pass.error }, "pass incomplete");
  } else {
    log.info({ revision: desired.revision, templates: pass.waiting }, "waiting for Gatekeeper to compile templates; requeued");
  }

  const status: AgentStatusReport = {
    agentVersion: deps.agentVersion,
    kubernetesVersion,
    gatekeeper,
    appliedRevision: state.appliedRevision,
    desiredRevision: desired.revision,
    lastSuccessfulSyncAt: state.lastSuccessAt?.toISOString() ?? null,
    error: pass.error,
    objects: pass.results,
    templates: pass.templates,
  };
  try {
    await deps.api.postStatus(status);
    if (gatekeeper.installed) await pushAudit(deps, state, pass.constraints, now());
    if (gatekeeper.installed) await pushAdmissionEvents(deps, state);
  } catch (e) {
    metrics.errors.inc({ stage: "report" });
    throw e;
  }

  const ok = complete;
  if (pass.waiting.length === 0) metrics.syncDuration.observe({ result: ok ? "success" : "error" }, (performance.now() - started) / 1000);
  const requeueAfterMs = pass.error === null && pass.waiting.length > 0 ? REQUEUE_MS : null;
  return {
    ok,
    revision: desired.revision,
    pollIntervalSeconds: desired.agent.pollIntervalSeconds,
    writes: pass.writes,
    results: pass.results,
    error: pass.error,
    requeueAfterMs,
  };
}

interface Pass {
  results: ObjectResult[];
  writes: number;
  error: string | null;
  templates: TemplateHealth[];
  /** Managed constraints as observed (their status is Gatekeeper's audit), minus pruned ones. */
  constraints: LiveObject[];
  /** Managed templates as last observed (their status says whether a VAP was generated). */
  liveTemplates: LiveObject[];
  /** Templates Gatekeeper is still compiling (within templateTimeoutMs): the pass requeues. */
  waiting: string[];
}

async function sync(
  deps: ReconcileDeps,
  desired: DesiredState,
  pass: Pass,
  { templatesPending: pending, templatesCompiled: compiled }: AgentState,
): Promise<void> {
  const { kube } = deps;
  const wantTemplates = desired.objects.filter((o) => o.apiVersion === TEMPLATE_API);
  const wantConstraints = desired.objects.filter((o) => o.apiVersion === CONSTRAINT_API);
  const wantExpansions = desired.objects.filter((o) => o.apiVersion === EXPANSION_API);

  // Observe. Constraint kinds come from what is desired and from the templates we manage now.
  let liveTemplates = await kube.listManaged(TEMPLATE_API, "ConstraintTemplate");
  const liveExpansions = await kube.listManaged(EXPANSION_API, "ExpansionTemplate");
  let crds = await kube.constraintCrds();
  const kinds = new Set([...wantConstraints.map((c) => c.kind), ...liveTemplates.map(templateKind).filter((k): k is string => !!k)]);
  const liveConstraints: LiveObject[] = [];
  for (const kind of [...kinds].sort()) {
    if (crds.has(crdName(kind))) liveConstraints.push(...(await kube.listManaged(CONSTRAINT_API, kind)));
  }

  // Templates first: a constraint can only be created once Gatekeeper made its CRD.
  const live = new Map([...liveTemplates, ...liveExpansions, ...liveConstraints].map((o) => [key(o), o]));
  let changedTemplates = 0;
  for (const t of wantTemplates) if ((await ensure(deps, t, live.get(key(t)), pass)) === "applied") changedTemplates++;
  if (changedTemplates > 0) {
    // Our writes are in the informers already: health below judges what we just applied.
    liveTemplates = await kube.listManaged(TEMPLATE_API, "ConstraintTemplate");
    crds = await kube.constraintCrds();
  }

  // Not compiled yet: no waiting inside the pass. The pass ends early and asks to run again soon
  // (requeue); only a template pending for longer than templateTimeoutMs is an error.
  const ready = new Set<string>();
  const nowMs = Date.now();
  pass.templates = wantTemplates.map((t) => templateHealth(t, liveTemplates, crds));
  const late: TemplateHealth[] = [];
  const generationOf = (name: string) => liveTemplates.find((l) => l.metadata?.name === name)?.metadata?.generation ?? 0;
  for (const h of pass.templates) {
    // Gatekeeper's aggregated status briefly reads {created: false} while it rewrites it (seen
    // with its webhook running): a generation this process saw compiled stays compiled while its
    // constraint CRD is established.
    if (h.errors.length === 0 && h.crdEstablished && !h.created && compiled.get(h.name) === generationOf(h.name)) h.created = true;
    if (h.created && h.crdEstablished && h.errors.length === 0) {
      ready.add(h.name);
      pending.delete(h.name);
      compiled.set(h.name, generationOf(h.name));
    } else if (h.errors.length === 0) {
      const since = pending.get(h.name) ?? nowMs;
      pending.set(h.name, since);
      if (nowMs - since > deps.templateTimeoutMs) late.push(h);
      else pass.waiting.push(h.name);
    }
  }
  for (const m of [pending, compiled]) for (const name of m.keys()) if (!wantTemplates.some((t) => t.metadata.name === name)) m.delete(name);
  const notReady = pass.templates.filter((h) => !ready.has(h.name) && !pass.waiting.includes(h.name));
  if (notReady.length > 0) {
    deps.metrics.errors.inc({ stage: "template" }, notReady.length);
    const why = notReady.map((h) => `${h.name}: ${h.errors[0]?.message ?? (late.includes(h) ? "not created by Gatekeeper in time" : "not ready")}`).join("; ");
    pass.error ??= `templates not ready: ${why}`;
  }

  // Then constraints (only of ready templates) and expansion templates.
  const templateOfKind = new Map(wantTemplates.map((t) => [templateKind(t), t.metadata.name]));
  for (const c of wantConstraints) {
    const template = templateOfKind.get(c.kind);
    if (template && pass.waiting.includes(template)) continue; // next pass, once it is compiled
    if (template && !ready.has(template)) {
      pass.results.push(result(c, "error", `not applied: its template ${template} is not ready`));
      continue;
    }
    await ensure(deps, c, live.get(key(c)), pass);
  }
  for (const e of wantExpansions) await ensure(deps, e, live.get(key(e)), pass);

  // Prune: only what we manage, only when the desired state was applied completely.
  const wanted = new Set(desired.objects.map(key));
  const stale = [...liveConstraints, ...liveExpansions, ...liveTemplates].filter((o) => !wanted.has(key(o)));
  if (pass.error === null && pass.waiting.length === 0) {
    for (const o of stale) {
      try {
        // Deleting a template makes Gatekeeper delete its CRD and so every constraint of that
        // kind: keep it while constraints we do not manage use it.
        const foreign = o.apiVersion === TEMPLATE_API ? await foreignConstraints(kube, o, crds) : [];
        if (foreign.length > 0) {
          pass.results.push(
            result(
              o as KubeObject,
              "error",
              `not pruned: constraints not managed by Gatehouse use it (${foreign.join(", ")}); delete them or enable the control again`,
            ),
          );
          pass.error ??= `template ${o.metadata?.name} is no longer desired but constraints not managed by Gatehouse use it: ${foreign.join(", ")}`;
          continue;
        }
        await kube.delete(o);
        pass.writes++;
        deps.metrics.objectsPruned.inc({ kind: o.kind ?? "" });
        pass.results.push(result(o as KubeObject, "pruned"));
      } catch (e) {
        deps.metrics.errors.inc({ stage: "prune" });
        pass.results.push(result(o as KubeObject, "error", `prune failed: ${kubeMessage(e)}`));
        pass.error ??= `prune failed for ${o.kind} ${o.metadata?.name}`;
      }
    }
  }
  const pruned = new Set(pass.results.filter((r) => r.result === "pruned").map((r) => `${r.apiVersion}|${r.kind}|${r.name}`));
  pass.constraints = liveConstraints.filter((c) => !pruned.has(key(c)));
  pass.liveTemplates = liveTemplates.filter((t) => !pruned.has(key(t)));
}

async function foreignConstraints(kube: Kube, template: LiveObject, crds: Map<string, CrdState>): Promise<string[]> {
  const kind = templateKind(template);
  if (!kind || !crds.has(crdName(kind))) return [];
  const all = await kube.listAll(CONSTRAINT_API, kind);
  return all.filter((c) => c.metadata?.labels?.[MANAGED_BY_LABEL] !== MANAGED_BY_VALUE).map((c) => c.metadata?.name ?? "");
}

/** Make one desired object true in the cluster; records the result. Returns what happened. */
async function ensure(deps: ReconcileDeps, want: KubeObject, current: LiveObject | undefined, pass: Pass): Promise<ObjectResult["result"]> {
  const { kube } = deps;
  try {
    if (current && inSyncCached(want, current)) {
      pass.results.push(result(want, "unchanged"));
      return "unchanged";
    }
    if (!current) {
      // Never take over an object someone else made under the same name.
      // (One that our field manager wrote is ours, with its label removed by hand: repaired.)
      const existing = await kube.get(want.apiVersion, want.kind, want.metadata.name);
      const ours = existing?.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === "Apply");
      if (existing && !ours)
        throw new Error(
          `a ${want.kind} named ${want.metadata.name} exists without the label app.kubernetes.io/managed-by=gatehouse; Gatehouse does not take it over`,
        );
    }
    let after = await kube.apply(want);
    pass.writes++;
    // Apply cannot remove fields another manager added (e.g. by kubectl edit): replace those.
    // Gatekeeper writes status concurrently, so a stale resourceVersion (409) is read again.
    // Every way round this loop counts towards one bound: an object the API server keeps
    // changing is an error of this pass, never a stream of writes.
    for (let attempt = 1; !specEquals(want, after); attempt++) {
      if (attempt > MAX_REPLACE_ATTEMPTS) {
        throw new Error(
          `${want.kind} ${want.metadata.name} still differs from the desired state after ${MAX_REPLACE_ATTEMPTS} replace attempts (${describeDrift(want, after)})`,
        );
      }
      try {
        pass.writes++;
        after = await kube.replace(withDesired(after, want));
      } catch (e) {
        const fresh = kubeStatus(e) === 409 ? await kube.get(want.apiVersion, want.kind, want.metadata.name) : null;
        if (!fresh) throw e;
        after = fresh;
      }
    }
    deps.metrics.objectsApplied.inc({ kind: want.kind });
    deps.log.info({ kind: want.kind, name: want.metadata.name, drift: current ? "repaired" : "created" }, "applied");
    pass.results.push(result(want, "applied"));
    return "applied";
  } catch (e) {
    deps.metrics.errors.inc({ stage: "apply" });
    const message = e instanceof Error && !("code" in e) ? e.message : kubeMessage(e);
    pass.results.push(result(want, "error", message));
    pass.error ??= `applying ${want.kind} ${want.metadata.name} failed: ${message}`;
    return "error";
  }
}

function result(o: KubeObject, r: ObjectResult["result"], message?: string): ObjectResult {
  return { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, result: r, ...(message ? { message: message.slice(0, 4096) } : {}) };
}
