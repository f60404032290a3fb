// The agent files a draft's shadow audit results under their owning workloads, the same way it
// files refused objects (ownerResolver, admission-events.test.ts), and leaves every other
// constraint's results as Gatekeeper reported them. The real cluster path is
// test/cluster/rollout.cluster.test.ts.
import { describe, expect, it } from "vitest";
import { fakeKube } from "../test/harness/fake-kube.ts";
import { constraintAudit, violation } from "../test/harness/agent-api.ts";
import { withPreviewOwners } from "./preview-owners.ts";

describe("withPreviewOwners", () => {
  it("resolves owners of shadow constraints' objects only, caching lookups across reports", async () => {
    const { kube, reads } = fakeKube({ "ReplicaSet/team-a/web-7c9d8f6b5d": { kind: "Deployment", name: "web" } });
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
