// Drift: does a live object still say what the desired one says? Compared on what we own — our
// labels and annotations, and the whole spec (Gatekeeper's kinds have no defaulted spec fields,
// so a spec that differs at all was edited by someone).
import type { KubeObject } from "../src/protocol/agent.ts";
import type { LiveObject } from "./kube.ts";

/** JSON with object keys sorted, so equal values compare equal whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

const meta = (o: { metadata?: unknown }) => (o.metadata ?? {}) as { labels?: Record<string, string>; annotations?: Record<string, string> };
const spec = (o: object) => (o as { spec?: unknown }).spec ?? null;

function includes(live: Record<string, string> | undefined, want: Record<string, string> | undefined): boolean {
  return Object.entries(want ?? {}).every(([k, v]) => live?.[k] === v);
}

export function specEquals(want: KubeObject, live: LiveObject): boolean {
  return canonical(spec(want)) === canonical(spec(live));
}

/** True when nothing needs writing: our labels and annotations are there and the spec is exactly ours. */
export function inSync(want: KubeObject, live: LiveObject): boolean {
  return includes(meta(live).labels, meta(want).labels) && includes(meta(live).annotations, meta(want).annotations) && specEquals(want, live);
}

/** The live object (resourceVersion and others' metadata kept) with our spec, labels and annotations. */
export function withDesired(live: LiveObject, want: KubeObject): LiveObject {
  const m = meta(want);
  return {
    ...live,
    metadata: {
      ...live.metadata,
      labels: { ...live.metadata?.labels, ...m.labels },
      annotations: { ...live.metadata?.annotations, ...m.annotations },
      managedFields: undefined,
    },
    spec: spec(want),
  } as LiveObject;
}
