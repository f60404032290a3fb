// vapStatus over rendered desired state and the status shapes Gatekeeper v3.23 writes
// (apis/status/v1beta1: vapGenerationStatus, enforcementPointsStatus); the cluster suite
// test/cluster/cel-admission.cluster.test.ts checks it against a real Gatekeeper.
import { describe, expect, it } from "vitest";
import { EnvironmentSettings, renderEnvironment, type EnvironmentSettingsInput } from "../src/policies/index.ts";
import { AgentStatusReport, gatekeeperProblems } from "../src/protocol/agent.ts";
import type { LiveObject } from "./kube.ts";
import { vapStatus } from "./vap-status.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const desired = (input: EnvironmentSettingsInput) => renderEnvironment(EnvironmentSettings.parse(input), NOW).objects;
// volume-types is the one control without CEL: it never gets a policy.
const controls = { privilegedContainers: {}, volumeTypes: {} };
const live = (o: { apiVersion: string; kind: string; metadata: { name: string } }, generation: number, byPod: unknown[]): LiveObject => ({
  apiVersion: o.apiVersion,
  kind: o.kind,
  metadata: { name: o.metadata.name, generation },
  status: { byPod },
});

describe("vapStatus", () => {
  it("is null when every control is enforced by the webhook", () => {
    expect(vapStatus(desired({ controls }), [], [])).toBeNull();
  });

  it("lists the policy and binding each API-server control needs, pending until Gatekeeper reports", () => {
    const objects = desired({ controls, enforcementPoint: "apiserver" });
    expect(vapStatus(objects, [], [])).toEqual({
      generated: false,
      policies: [{ source: "gatehouseprivilegedcontainers", name: "gatekeeper-gatehouseprivilegedcontainers", state: "pending" }],
      bindings: [{ source: "privileged-containers", name: "gatekeeper-gatehouseprivilegedcontainers-privileged-containers", state: "pending" }],
    });
  });

  it("generated once Gatekeeper says so for the current generation; waiting and errors carry its message", () => {
    const objects = desired({ controls, enforcementPoint: "both" });
    const template = objects.find((o) => o.metadata.name === "gatehouseprivilegedcontainers")!;
    const constraint = objects.find((o) => o.kind === "GatehousePrivilegedContainers")!;
    const generated = [live(template, 2, [{ id: "gk", vapGenerationStatus: { state: "generated", observedGeneration: 2 } }])];
    const bound = [live(constraint, 1, [{ id: "gk", enforcementPointsStatus: [{ enforcementPoint: "vap.k8s.io", state: "generated" }] }])];
    const ok = vapStatus(objects, generated, bound)!;
    expect(ok.generated).toBe(true);
    expect(AgentStatusReport.shape.gatekeeper.parse({ installed: true, version: "v3.23.0", vap: ok }).vap).toEqual(ok);
    expect(gatekeeperProblems({ installed: true, vap: ok })).toEqual([]);

    // A status about generation 1 says nothing about generation 2.
    const stale = [live(template, 2, [{ id: "gk", vapGenerationStatus: { state: "generated", observedGeneration: 1 } }])];
    expect(vapStatus(objects, stale, bound)!.policies[0]!.state).toBe("pending");

    const waiting = [
      live(constraint, 1, [{ enforcementPointsStatus: [{ enforcementPoint: "vap.k8s.io", state: "waiting", message: "waiting until later" }] }]),
    ];
    expect(vapStatus(objects, generated, waiting)!.bindings[0]).toMatchObject({ state: "pending", message: "waiting until later" });

    const failed = [
      live(template, 2, [{ vapGenerationStatus: { state: "error", warning: "ValidatingAdmissionPolicy is not generated: no API", observedGeneration: 2 } }]),
    ];
    const broken = vapStatus(objects, failed, bound)!;
    expect(broken).toMatchObject({ generated: false, policies: [{ state: "error", message: "ValidatingAdmissionPolicy is not generated: no API" }] });
    expect(gatekeeperProblems({ installed: true, vap: broken })).toEqual([
      "Gatekeeper could not generate gatekeeper-gatehouseprivilegedcontainers for gatehouseprivilegedcontainers (ValidatingAdmissionPolicy is not generated: no API): the API server does not enforce it",
    ]);

    const refused = [live(constraint, 1, [{ errors: [{ message: "cannot generate ValidatingAdmissionPolicyBinding: conditions not satisfied" }] }])];
    expect(vapStatus(objects, generated, refused)!.bindings[0]).toMatchObject({ state: "error" });
  });
});
