// Admission events: what Gatekeeper's webhook refused, warned about or recorded in dryrun, read
// from the Events it records in its own namespace with --emit-admission-events, filed under the
// workload that asked, and forwarded to the API — only Events that are new or whose count grew
// since this process last sent them. The API counts each Event once per count, so a restart that
// sends everything again duplicates nothing.
import { LRUCache } from "lru-cache";
import { ADMISSION_REASONS, EVENT_ANNOTATIONS as A, MAX_ADMISSION_EVENTS, type AdmissionEvent, type AdmissionReason } from "../src/protocol/admission.ts";
import type { Kube, KubeEvent, LiveObject } from "./kube.ts";

type Owner = { kind: string; name: string } | null;

type EventObject = KubeEvent;

/** Gatekeeper's message for the constraint: the text after "Message: " in the Event's message. */
function policyMessage(e: EventObject): string {
  const m = e.message ?? "";
  const at = m.indexOf("Message: ");
  return (at >= 0 ? m.slice(at + "Message: ".length) : m).toWellFormed().replaceAll("\0", "\uFFFD").slice(0, 8192);
}

const iso = (...candidates: (string | null | undefined)[]) => {
  for (const c of candidates) if (c && !Number.isNaN(Date.parse(c))) return new Date(c).toISOString();
  return new Date(0).toISOString();
};

/** The controller owner of a namespaced object, when there is one and it may be read. */
async function controllerOf(kube: Kube, apiVersion: string, kind: string, namespace: string, name: string): Promise<{ obj: LiveObject; owner: Owner } | null> {
  const obj = await kube.readNamespaced(apiVersion, kind, namespace, name);
  if (!obj) return null;
  const ref = (obj.metadata?.ownerReferences ?? []).find((r) => r.controller);
  return { obj, owner: ref ? { kind: ref.kind, name: ref.name } : null };
}

/**
 * The workload a refused object belongs to. The object never existed, so its ownerReferences
 * cannot be read; its generated name can, and each candidate is confirmed by reading it:
 * - a Pod (`<replicaset>-<5 chars>` or `<job>-<5 chars>`): its ReplicaSet's or Job's controller
 *   (Deployment, CronJob), else that ReplicaSet or Job;
 * - a ReplicaSet (`<deployment>-<pod-template-hash>`), refused through expansion when a
 *   Deployment rolls out: that Deployment;
 * - a Job (`<cronjob>-<scheduled minute>`), refused through expansion when a CronJob fires: that
 *   CronJob.
 */
export function ownerResolver(kube: Kube) {
  const cache = new LRUCache<string, { owner: Owner }>({ max: 5000, ttl: 10 * 60_000 });
  const exists = async (apiVersion: string, kind: string, namespace: string, name: string): Promise<Owner> =>
    (await kube.readNamespaced(apiVersion, kind, namespace, name)) ? { kind, name } : null;
  const lookup = async (kind: string, namespace: string, name: string): Promise<Owner> => {
    if (kind === "ReplicaSet") {
      const m = /^(.+)-[a-z0-9]{1,10}$/.exec(name);
      return m ? exists("apps/v1", "Deployment", namespace, m[1]!) : null;
    }
    if (kind === "Job") {
      const m = /^(.+)-\d+$/.exec(name);
      return m ? exists("batch/v1", "CronJob", namespace, m[1]!) : null;
    }
    if (kind !== "Pod") return null;
    const m = /^(.+)-[a-z0-9]{5}$/.exec(name);
    if (!m) return null;
    const rs = await controllerOf(kube, "apps/v1", "ReplicaSet", namespace, m[1]!);
    if (rs) return rs.owner ?? { kind: "ReplicaSet", name: m[1]! };
    const job = await controllerOf(kube, "batch/v1", "Job", namespace, m[1]!);
    if (job) return job.owner ?? { kind: "Job", name: m[1]! };
    return null;
  };
  return async (kind: string, namespace: string, name: string): Promise<Owner> => {
    const key = `${kind}/${namespace}/${kind === "Pod" ? name.replace(/-[a-z0-9]{5}$/, "") : name}`;
    const hit = cache.get(key);
    if (hit) return hit.owner;
    const owner = await lookup(kind, namespace, name);
    cache.set(key, { owner });
    return owner;
  };
}

/** Gatekeeper's admission Events in `namespace`, as the protocol carries them. */
export async function readAdmissionEvents(kube: Kube, namespace: string, resolveOwner: ReturnType<typeof ownerResolver>): Promise<AdmissionEvent[]> {
  const out: AdmissionEvent[] = [];
  for (const e of (await kube.listEvents(namespace)) as EventObject[]) {
    const a = e.metadata?.annotations ?? {};
    const action = ADMISSION_REASONS[e.reason as AdmissionReason];
    if (!action || a[A.process] !== "admission" || !e.metadata?.uid || !a[A.constraintName] || !a[A.constraintKind]) continue;
    const resource = {
      group: a[A.resourceGroup] ?? "",
      version: a[A.resourceVersion] ?? "",
      kind: a[A.resourceKind] || "Unknown",
      namespace: a[A.resourceNamespace] ?? "",
      name: a[A.resourceName] ?? "",
    };
    out.push({
      uid: e.metadata.uid,
      count: Math.max(1, e.series?.count ?? e.count ?? 1),
      firstSeenAt: iso(e.firstTimestamp, e.eventTime, e.metadata.creationTimestamp as unknown as string),
      lastSeenAt: iso(e.series?.lastObservedTime, e.lastTimestamp, e.eventTime, e.metadata.creationTimestamp as unknown as string),
      action,
      source: "webhook",
      constraintKind: a[A.constraintKind]!,
      constraintName: a[A.constraintName]!,
      resource,
      owner: resource.namespace ? await resolveOwner(resource.kind, resource.namespace, resource.name) : null,
      username: a[A.username] ?? "",
      message: policyMessage(e),
    });
  }
  return out;
}

/** What this process already sent: Event uid → count. */
export type SentCounts = Map<string, number>;

/** The events to send now (new, or with a grown count), in batches the API accepts. */
export function unsent(events: readonly AdmissionEvent[], sent: SentCounts): AdmissionEvent[][] {
  const fresh = events.filter((e) => (sent.get(e.uid) ?? 0) < e.count);
  const batches: AdmissionEvent[][] = [];
  for (let i = 0; i < fresh.length; i += MAX_ADMISSION_EVENTS) batches.push(fresh.slice(i, i + MAX_ADMISSION_EVENTS));
  return batches;
}

/** Remembers what was sent, and forgets Events Kubernetes has expired (kept ~1 h by default). */
export function markSent(sent: SentCounts, batch: readonly AdmissionEvent[], live: readonly AdmissionEvent[]): void {
  for (const e of batch) sent.set(e.uid, e.count);
  const alive = new Set(live.map((e) => e.uid));
  for (const uid of sent.keys()) if (!alive.has(uid)) sent.delete(uid);
}
