// Gatekeeper ExpansionTemplates: let admission check a workload's pod template as if it were a
// Pod, so a Deployment that could never start is refused when it is created, not later when its
// ReplicaSet fails to make pods (the seed product's silent "provision failure").
import { contentHash } from "./hash.ts";
import { deepFreeze, HASH_ANNOTATION, MANAGED_BY, type K8sObject } from "./render.ts";
// The table of what is expanded, and where each pod template sits, is workload-paths.ts.
import { EXPANSIONS as expansions } from "./workload-paths.ts";

export const EXPANSION_NAMES = expansions.map((e) => e.name);

let rendered: readonly K8sObject[] | undefined;

/** The expansion templates never change: rendered once, frozen, shared. */
export function renderExpansionTemplates(): K8sObject[] {
  rendered ??= deepFreeze(build());
  return [...rendered];
}

function build(): K8sObject[] {
  return expansions.map((e) => {
    const obj: K8sObject = {
      apiVersion: "expansion.gatekeeper.sh/v1beta1",
      kind: "ExpansionTemplate",
      metadata: {
        name: e.name,
        labels: { ...MANAGED_BY },
        annotations: { description: `checks ${e.applyTo.flatMap((a) => a.kinds).join(", ")} through ${e.templateSource}` },
      },
      spec: {
        applyTo: e.applyTo.map((a) => ({ groups: [...a.groups], kinds: [...a.kinds], versions: [...a.versions] })),
        templateSource: e.templateSource,
        generatedGVK: { group: "", version: "v1", kind: "Pod" },
      },
    };
    obj.metadata.annotations[HASH_ANNOTATION] = contentHash(obj);
    return obj;
  });
}
