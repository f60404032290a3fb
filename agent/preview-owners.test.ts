// The agent files a draft's shadow audit results under their owning workloads, the same way it
// files refused objects (ownerResolver, admission-events.test.ts), and leaves every other
// constraint's results as Gatekeeper reported them. The real cluster path is
// test/cluster/rollout.cluster.test.ts.
import { describe, expect, it } from "vitest";
import { constraintAudit, violation } from "../test/harness/agent-api.ts";
import type { Kube, LiveObject } from "./kube.ts";
import { withPreviewOwners } from "./preview-owners.ts";

function kubeWith(objects: Record<string, { kind: string; name: string } | null>) {
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
  } as unknown as Kube;
  return { kube, reads };
}

describe("withPreviewOwners", () => {
  it("resolves owners of shadow constraints' objects only, caching lookups across reports", async () => {
    const { kube, reads } = kubeWith({ "ReplicaSet/team-a/web-7c9d8f6b5d": { kind: "Deployment", name: "web" } });
    const shadow = constraintAudit({ name: "preview-0b6c5f6e-1-privileged-containers" }, 0);
    shadow.violations = [
      violation(1, { namespace: "team-a", name: "web-7c9d8f6b5d-x2x7q" }),
      violation(2, { namespace: "team-a", name: "debug" }),
      violation(3, { kind: "Namespace", namespace: "", name: "team-a" }),
    ];
    const current = constraintAudit({}, 1);
    current.violations[0] = violation(0, { namespace: "team-a", name: "web-7c9d8f6b5d-x2x7q" });
    const report = { collectedAt: "2030-01-01T00:00:00.000Z", constraints: [current, shadow] };
    const out = await withPreviewOwners(kube, report);
    expect(out.constraints[0]).toEqual(current);
    expect(out.constraints[1]!.violations.map((v) => v.owner ?? null)).toEqual([{ kind: "Deployment", name: "web" }, null, null]);
    const n = reads.length;
    await withPreviewOwners(kube, report);
    expect(reads.length).toBe(n);
  });
});
