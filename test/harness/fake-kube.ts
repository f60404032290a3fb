// A Kube for the agent's unit tests that knows only the namespaced objects it is given (and the
// Events it lists), recording every read, so a test can say which lookups happened. What the
// real kube-apiserver answers is the cluster suites' (test/cluster/).
import type { Kube, LiveObject } from "../../agent/kube.ts";

/** `Kind/namespace/name` → the object's controller (null: an object without one; absent: no such object). */
export type FakeObjects = Record<string, { kind: string; name: string } | null>;

export function fakeKube(objects: FakeObjects, events: LiveObject[] = []): { kube: Kube; reads: string[] } {
  const reads: string[] = [];
  const kube = {
    async readNamespaced(_apiVersion: string, kind: string, namespace: string, name: string) {
      const key = `${kind}/${namespace}/${name}`;
      reads.push(key);
      if (!(key in objects)) return null;
      const owner = objects[key];
      return {
        metadata: { name, namespace, ownerReferences: owner ? [{ apiVersion: "x", kind: owner.kind, name: owner.name, uid: "u", controller: true }] : [] },
      } as LiveObject;
    },
    async listEvents(_namespace: string, fieldSelector?: string) {
      // The one selector the agent uses, `reason=<reason>`, as the API server applies it.
      const reason = fieldSelector && /^reason=(.+)$/.exec(fieldSelector)?.[1];
      return reason ? events.filter((e) => (e as { reason?: string }).reason === reason) : events;
    },
  } as unknown as Kube;
  return { kube, reads };
}
