// The agent's side of the denial history without a cluster: which workload a refused object is
// filed under (each candidate confirmed by a read; unreadable or absent means no owner), which
// Events become protocol events, and that only new or grown counts are sent. The real cluster
// path is test/cluster/denials.cluster.test.ts.
import { describe, expect, it } from "vitest";
import { fakeKube } from "../test/harness/fake-kube.ts";
import { markSent, ownerResolver, readAdmissionEvents, unsent } from "./admission-events.ts";
import type { LiveObject } from "./kube.ts";

describe("ownerResolver", () => {
  const { kube, reads } = fakeKube({
    "ReplicaSet/team-a/web-7c9d8f6b5d": { kind: "Deployment", name: "web" },
    "ReplicaSet/team-a/bare-5f6d7c8b9a": null,
    "Job/team-b/nightly-29000000": { kind: "CronJob", name: "nightly" },
    "Deployment/team-a/web": null,
    "CronJob/team-b/nightly": null,
  });
  const resolve = ownerResolver(kube);

  it.each([
    ["Pod", "team-a", "web-7c9d8f6b5d-x2x7q", { kind: "Deployment", name: "web" }],
    ["Pod", "team-a", "bare-5f6d7c8b9a-abcde", { kind: "ReplicaSet", name: "bare-5f6d7c8b9a" }],
    ["Pod", "team-b", "nightly-29000000-q8w7e", { kind: "CronJob", name: "nightly" }],
    ["ReplicaSet", "team-a", "web-7c9d8f6b5d", { kind: "Deployment", name: "web" }],
    ["Job", "team-b", "nightly-29000000", { kind: "CronJob", name: "nightly" }],
    ["Pod", "team-a", "debug-shell", null],
    ["Pod", "team-a", "ghost-1234567890-abcde", null],
    ["ReplicaSet", "team-a", "orphan-abc123", null],
    ["Deployment", "team-a", "web", null],
  ])("%s %s/%s → %j", async (kind, ns, name, owner) => {
    expect(await resolve(kind, ns, name)).toEqual(owner);
  });

  it("remembers what it found: another Pod of the same ReplicaSet costs no read", async () => {
    const before = reads.length;
    expect(await resolve("Pod", "team-a", "web-7c9d8f6b5d-zzzzz")).toEqual({ kind: "Deployment", name: "web" });
    expect(reads.length).toBe(before);
  });
});

describe("reading and sending Gatekeeper's Events", () => {
  const event = (uid: string, reason: string, count: number, annotations: Record<string, string> = {}): LiveObject =>
    ({
      apiVersion: "v1",
      kind: "Event",
      metadata: {
        uid,
        annotations: {
          process: "admission",
          constraint_name: "privileged-containers",
          constraint_kind: "GatehousePrivilegedContainers",
          constraint_action: "deny",
          resource_group: "",
          resource_api_version: "v1",
          resource_kind: "Pod",
          resource_namespace: "team-a",
          resource_name: "debug",
          request_username: "alice",
          ...annotations,
        },
      },
      reason,
      count,
      lastTimestamp: "2030-01-01T00:00:00Z",
      firstTimestamp: "2030-01-01T00:00:00Z",
      message:
        'Admission webhook "validation.gatekeeper.sh" denied request, Resource Namespace: team-a, Constraint: privileged-containers, Message: pod team-a/debug: privileged',
    }) as unknown as LiveObject;

  it("keeps admission Events only, with the action from the reason and the policy's message", async () => {
    const { kube } = fakeKube({}, [
      event("a", "FailedAdmission", 2),
      event("b", "WarningAdmission", 1),
      event("c", "DryrunViolation", 1),
      event("d", "FailedCreate", 1),
      event("e", "FailedAdmission", 1, { process: "audit" }),
    ]);
    const out = await readAdmissionEvents(kube, "gatekeeper-system", ownerResolver(kube));
    expect(out.map((e) => [e.uid, e.action, e.count])).toEqual([
      ["a", "deny", 2],
      ["b", "warn", 1],
      ["c", "dryrun", 1],
    ]);
    expect(out[0]).toMatchObject({
      message: "pod team-a/debug: privileged",
      username: "alice",
      owner: null,
      resource: { kind: "Pod", namespace: "team-a", name: "debug" },
    });
  });

  it("sends only new or grown Events, and forgets the ones Kubernetes expired", async () => {
    const { kube } = fakeKube({}, [event("a", "FailedAdmission", 2), event("b", "FailedAdmission", 1)]);
    const live = await readAdmissionEvents(kube, "gatekeeper-system", ownerResolver(kube));
    const sent = new Map<string, number>([
      ["a", 2],
      ["gone", 5],
    ]);
    const batches = unsent(live, sent);
    expect(batches.map((b) => b.map((e) => e.uid))).toEqual([["b"]]);
    markSent(sent, batches[0]!, live);
    expect([...sent.entries()]).toEqual([
      ["a", 2],
      ["b", 1],
    ]);
  });
});
