// The enforcement point setting (issue 20): which objects each choice renders, that a document
// without it renders as before, and that a Rego-only control cannot be given to the API server.
import { describe, expect, it } from "vitest";
import { catalogue } from "./catalogue.ts";
import { EnvironmentSettings, fieldIssues, renderEnvironment, type EnvironmentSettingsInput, type K8sObject } from "./index.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const render = (input: EnvironmentSettingsInput) => renderEnvironment(EnvironmentSettings.parse(input), NOW);
const controls = { privilegedContainers: {}, procMount: {}, volumeTypes: {} };
const find = (objects: K8sObject[], kind: string) => objects.find((o) => o.kind === kind)!;
const template = (objects: K8sObject[], name: string) => objects.find((o) => o.kind === "ConstraintTemplate" && o.metadata.name === name)!;
const target = (t: K8sObject) => (t.spec.targets as Record<string, unknown>[])[0]!;

describe("enforcementPoint", () => {
  it("absent or webhook: templates carry only Rego and constraints a plain enforcementAction", () => {
    const absent = render({ controls });
    expect(render({ controls, enforcementPoint: "webhook" }).objects).toEqual(absent.objects);
    for (const t of absent.objects.filter((o) => o.kind === "ConstraintTemplate")) expect(target(t).code).toBeUndefined();
    expect(find(absent.objects, "GatehousePrivilegedContainers").spec.enforcementAction).toBe("deny");
    expect(absent.summary.join("\n")).not.toContain("via");
  });

  it("apiserver: CEL with generateVAP, and a constraint scoped to the generated policy, audit and gator", () => {
    const { objects, summary } = render({ controls, enforcementPoint: "apiserver", enforcementAction: "warn" });
    const code = target(template(objects, "gatehouseprivilegedcontainers")).code as { engine: string; source: Record<string, unknown> }[];
    expect(code.map((c) => c.engine)).toEqual(["K8sNativeValidation"]);
    expect(code[0]!.source.generateVAP).toBe(true);
    // The Rego stays: Gatekeeper makes it the Rego code entry, for a cluster with CEL turned off.
    expect(target(template(objects, "gatehouseprivilegedcontainers")).rego).toContain("package gatehouseprivilegedcontainers");
    expect(find(objects, "GatehousePrivilegedContainers").spec).toMatchObject({
      enforcementAction: "scoped",
      scopedEnforcementActions: [
        { action: "warn", enforcementPoints: [{ name: "vap.k8s.io" }, { name: "audit.gatekeeper.sh" }, { name: "gator.gatekeeper.sh" }] },
      ],
    });
    // volume-types has no CEL: it stays with the webhook, and the summary says so.
    expect(target(template(objects, "gatehousevolumetypes")).code).toBeUndefined();
    expect(find(objects, "GatehouseVolumeTypes").spec.enforcementAction).toBe("warn");
    expect(summary).toContain("Rego only, so enforced by the webhook alone: volume-types");
    expect(summary.some((l) => l.startsWith("privileged-containers [warn via apiserver]"))).toBe(true);
  });

  it("both, per control: the webhook too; the control's own setting wins over the environment's", () => {
    const { objects } = render({
      enforcementPoint: "apiserver",
      controls: { ...controls, procMount: { enforcementPoint: "both" }, privilegedContainers: { enforcementPoint: "webhook" } },
    });
    const points = (find(objects, "GatehouseProcMount").spec.scopedEnforcementActions as { enforcementPoints: { name: string }[] }[])[0]!.enforcementPoints;
    expect(points.map((p) => p.name)).toEqual(["validation.gatekeeper.sh", "vap.k8s.io", "audit.gatekeeper.sh", "gator.gatekeeper.sh"]);
    expect(find(objects, "GatehousePrivilegedContainers").spec.enforcementAction).toBe("deny");
    expect(target(template(objects, "gatehouseprivilegedcontainers")).code).toBeUndefined();
  });

  it("refuses the API server for a control without CEL, and unknown points, naming the field", () => {
    const regoOnly = catalogue.find((c) => !c.cel)!;
    for (const point of ["apiserver", "both"]) {
      const r = EnvironmentSettings.safeParse({ controls: { [regoOnly.id]: { enforcementPoint: point } } });
      expect(r.success).toBe(false);
      expect(fieldIssues(r.error!)).toEqual([
        { path: `controls.${regoOnly.id}.enforcementPoint`, message: expect.stringContaining(`${regoOnly.slug} has no CEL`) },
      ]);
    }
    const bad = EnvironmentSettings.safeParse({ enforcementPoint: "kubelet" });
    expect(bad.success).toBe(false);
    expect(fieldIssues(bad.error!).map((i) => i.path)).toEqual(["enforcementPoint"]);
  });
});
