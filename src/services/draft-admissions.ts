// New objects a draft would refuse: Gatekeeper's admission events of a draft's shadow (dryrun)
// constraints. They are not denials (nothing was refused, and the current settings did not ask),
// so the denial history never counts them (denials.ts); they are kept on the draft instead, per
// Kubernetes Event (uid → its latest count, so an Event sent again adds nothing), for its current
// version only, the newest MAX_KEPT, and shown in its preview beside the audit's live objects.
import { and, eq, gt } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { drafts, type Draft } from "../db/schema.ts";
import type { AdmissionEvent } from "../protocol/admission.ts";
import { SHADOW_NAME_PREFIX, shadowName } from "../protocol/agent.ts";
import { workloadOf } from "./denials.ts";

/** Per draft, the newest this many Events (by last seen) are kept. */
export const MAX_KEPT = 200;

export interface StoredAdmissions {
  events: AdmissionEvent[];
}

export const isShadowEvent = (e: AdmissionEvent) => e.constraintName.startsWith(SHADOW_NAME_PREFIX);

/** Files each shadow Event under the open draft whose current version's shadow it names. Returns how many were filed. */
export async function recordShadowAdmissions(
  tx: Db,
  ids: { tenantId: string; environmentId: string },
  events: readonly AdmissionEvent[],
  now: Date,
): Promise<number> {
  const shadow = events.filter(isShadowEvent);
  if (shadow.length === 0) return 0;
  const open = await tx
    .select({ id: drafts.id, version: drafts.version, admissions: drafts.previewAdmissions })
    .from(drafts)
    .where(and(eq(drafts.tenantId, ids.tenantId), eq(drafts.environmentId, ids.environmentId), gt(drafts.expiresAt, now)))
    .for("update");
  let filed = 0;
  for (const d of open) {
    const prefix = shadowName(d.id, d.version, "");
    const mine = shadow.filter((e) => e.constraintName.startsWith(prefix));
    if (mine.length === 0) continue;
    filed += mine.length;
    const byUid = new Map(((d.admissions as StoredAdmissions | null)?.events ?? []).map((e) => [e.uid, e]));
    for (const e of mine) {
      const prev = byUid.get(e.uid);
      if (!prev || e.count >= prev.count) byUid.set(e.uid, e);
    }
    const kept = [...byUid.values()].sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt)).slice(0, MAX_KEPT);
    await tx
      .update(drafts)
      .set({ previewAdmissions: { events: kept } satisfies StoredAdmissions })
      .where(and(eq(drafts.tenantId, ids.tenantId), eq(drafts.id, d.id)));
  }
  return filed;
}

export interface AdmittedObject {
  kind: string;
  namespace: string;
  name: string;
  /** The workload it belongs to (resolved by the agent), or the object itself. */
  workload: { kind: string; name: string };
  username: string;
  message: string;
  /** Admission requests of this object's workload the shadow recorded (Kubernetes aggregates repeats). */
  count: number;
  lastSeenAt: string;
}

/** One entry per workload (a ReplicaSet's every retry is a Pod with a new name), newest first. */
export function admittedObjects(draft: Pick<Draft, "previewAdmissions">, constraintName: string): AdmittedObject[] {
  const byWorkload = new Map<string, AdmittedObject>();
  for (const e of (draft.previewAdmissions as StoredAdmissions | null)?.events ?? []) {
    if (e.constraintName !== constraintName) continue;
    const w = workloadOf(e);
    const k = JSON.stringify([e.resource.namespace, w.kind, w.name]);
    const prev = byWorkload.get(k);
    const item: AdmittedObject = {
      kind: e.resource.kind,
      namespace: e.resource.namespace,
      name: e.resource.name,
      workload: w,
      username: e.username,
      message: e.message,
      count: e.count,
      lastSeenAt: e.lastSeenAt,
    };
    if (!prev) byWorkload.set(k, item);
    else byWorkload.set(k, { ...(prev.lastSeenAt >= item.lastSeenAt ? prev : item), count: prev.count + item.count });
  }
  return [...byWorkload.values()].sort((a, b) => b.lastSeenAt.localeCompare(a.lastSeenAt));
}
