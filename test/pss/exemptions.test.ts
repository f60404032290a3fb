// The presets' default namespace exemptions, as presets/README.md states them: every namespace is
// checked except kube-system, gatekeeper-system and gatehouse-system — exactly those names (a
// pattern without * is not a prefix). Real gator, the preset rendered with the defaults.
import { describe, expect, it } from "vitest";
import { applyPreset, DEFAULT_EXEMPT_NAMESPACES, EnvironmentSettings, renderEnvironment } from "../../src/policies/index.ts";
import { gatorTest } from "../harness/gator.ts";
import { PSS_LEVELS } from "../harness/psa.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const EXEMPT = ["kube-system", "gatekeeper-system", "gatehouse-system"];
const CHECKED = ["default", "kube-public", "kube-system-extra", "team-kube-system", "gatekeeper", "gatehouse"];

// Refused at both levels: privileged and on the host's network.
const privileged = (namespace: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: `p-${namespace}`, namespace },
  spec: { hostNetwork: true, containers: [{ name: "app", image: "registry.example/app:1", securityContext: { privileged: true } }] },
});

describe.each(PSS_LEVELS)("PSS %s preset with the default namespace exemptions", (level) => {
  it("skips exactly kube-system, gatekeeper-system and gatehouse-system", () => {
    expect(DEFAULT_EXEMPT_NAMESPACES.map((e) => e.pattern).sort()).toEqual([...EXEMPT].sort());
    const { objects } = renderEnvironment(EnvironmentSettings.parse(applyPreset({}, level)), NOW);
    const results = gatorTest(objects, [...EXEMPT, ...CHECKED].map(privileged));
    const denied = new Set(results.filter((r) => r.enforcementAction === "deny").map((r) => r.violatingObject.metadata.namespace));
    expect([...denied].sort()).toEqual([...CHECKED].sort());
  });
});
