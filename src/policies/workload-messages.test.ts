// A refused workload's message names the workload and the paths in it (issue 16, item 6), under
// both engines: Gatekeeper's expansion reviews a Deployment's pod template as a Pod named
// `<name>-pod` with the Deployment's ownerReference and no uid (common/gatehouse.rego `workload`).
// A pod a controller really made (its owners carry uids) keeps `pod ns/name`, and so does the pod of
// a workload kind Gatehouse does not expand (no known path for its pod template).
import { beforeAll, describe, expect, it } from "vitest";
import { gatorTest, type GatorEngine, type GatorResult } from "../../test/harness/gator.ts";
import { field, podFinding, type ControlCel } from "./cel.ts";
import { catalogue } from "./catalogue.ts";
import { controlSettingsSchema } from "./control-settings.ts";
import { renderExpansionTemplates } from "./expansion.ts";
import { renderConstraint, renderTemplate } from "./render.ts";
import { pod, workload, type Json, type Sample } from "./sample.ts";
import { POD_TEMPLATE_PATHS, WORKLOADS_REGO_LIB } from "./workload-paths.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const IMAGE = "nginx:1.27";
const spec = { hostPID: true, containers: [{ name: "app", image: IMAGE, securityContext: { privileged: true } }] };
const named = (o: Json, name: string): Json => ({ ...o, metadata: { ...(o.metadata as Json), name } });

// A workload kind someone else expands (their own ExpansionTemplate): Gatehouse knows no path for it.
const rolloutExpansion = {
  apiVersion: "expansion.gatekeeper.sh/v1beta1",
  kind: "ExpansionTemplate",
  metadata: { name: "their-rollouts" },
  spec: {
    applyTo: [{ groups: ["argoproj.io"], kinds: ["Rollout"], versions: ["v1alpha1"] }],
    templateSource: "spec.template",
    generatedGVK: { group: "", version: "v1", kind: "Pod" },
  },
};
const rollout = { apiVersion: "argoproj.io/v1alpha1", kind: "Rollout", metadata: { name: "canary", namespace: "team-a" }, spec: { template: { spec } } };

const ownedBy = (kind: string, name: string) => ({
  ownerReferences: [{ apiVersion: "apps/v1", kind, name, uid: "6f0e2b8c-1d2a-4c55-9a53-0b7c5e0b9d11", controller: true, blockOwnerDeletion: true }],
});
const objects = [
  named(workload("Deployment", spec), "root-web"),
  named(workload("CronJob", spec), "nightly"),
  // What a ReplicaSet really creates: a generated name, an owner with a uid.
  pod(spec, { name: "web-7d9f8-x2k4z", generateName: "web-7d9f8-", ...ownedBy("ReplicaSet", "web-7d9f8") }),
  // A real pod whose name happens to be <owner>-pod: its owner's uid says it is no expansion.
  pod(spec, { name: "web-pod", ...ownedBy("ReplicaSet", "web") }),
  rollout,
];

const slugs = ["privileged-containers", "host-namespaces"];
function policy(engine: GatorEngine): object[] {
  return [
    ...slugs.flatMap((slug) => {
      const c = catalogue.find((x) => x.slug === slug)!;
      const settings = controlSettingsSchema(c).parse({});
      return [
        renderTemplate(c, engine === "cel" ? "both" : "webhook"),
        renderConstraint(c, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, NOW),
      ];
    }),
    ...renderExpansionTemplates(),
    rolloutExpansion,
  ];
}

/** The two findings, for `subject`, the container's path and the prefix of pod paths. */
const findings = (implied: string, subject: string, containerPath: string, podPrefix: string) =>
  [
    `${implied}${subject}: container "app" (${containerPath}, image ${IMAGE}): securityContext.privileged is true; privileged containers are not allowed. To allow it, exempt namespace "team-a" or image "${IMAGE}" in Gatehouse control privileged-containers.`,
    `${implied}${subject}: ${podPrefix}spec.hostPID is true; sharing the host PID namespace is not allowed (allowHostPID is false). To allow it, exempt namespace "team-a" in Gatehouse control host-namespaces.`,
  ].sort();

describe.each(["rego", "cel"] as const)("workload messages under %s (gator)", (engine) => {
  let results: GatorResult[] = [];
  beforeAll(() => {
    results = gatorTest(policy(engine), objects, engine);
  });
  const msgs = (name: string) =>
    results
      .filter((r) => r.violatingObject.metadata.name === name)
      .map((r) => r.msg)
      .sort();

  it("a Deployment's findings name the Deployment and the paths in it", () => {
    expect(msgs("root-web")).toEqual(
      findings("[Implied by gatehouse-pod-templates] ", "Deployment team-a/root-web", "spec.template.spec.containers[0]", "spec.template."),
    );
  });

  it("a CronJob's findings give the path through its job template", () => {
    expect(msgs("nightly")).toEqual(
      findings(
        "[Implied by gatehouse-cronjob-templates] ",
        "CronJob team-a/nightly",
        "spec.jobTemplate.spec.template.spec.containers[0]",
        "spec.jobTemplate.spec.template.",
      ),
    );
  });

  it("a ReplicaSet's real pod keeps pod ns/name and pod paths, byte for byte as before", () => {
    expect(msgs("web-7d9f8-x2k4z")).toEqual(findings("", "pod team-a/web-7d9f8-x2k4z", "containers[0]", ""));
    expect(msgs("web-pod")).toEqual(findings("", "pod team-a/web-pod", "containers[0]", ""));
  });

  it("the pod of a workload kind Gatehouse does not expand is shown as the pod Gatekeeper made", () => {
    expect(msgs("canary")).toEqual(findings("[Implied by their-rollouts] ", "pod team-a/canary-pod", "containers[0]", ""));
  });
});

describe("the pod-template paths", () => {
  it("come from the ExpansionTemplates, one per expanded kind and version", () => {
    const fromTemplates = renderExpansionTemplates().flatMap((t) => {
      const s = t.spec as { applyTo: { groups: string[]; kinds: string[]; versions: string[] }[]; templateSource: string };
      return s.applyTo.flatMap((a) =>
        a.groups.flatMap((g) => a.versions.flatMap((v) => a.kinds.map((k) => [`${g ? `${g}/` : ""}${v}/${k}`, `${s.templateSource}.`]))),
      );
    });
    expect(Object.entries(POD_TEMPLATE_PATHS).sort()).toEqual(fromTemplates.sort());
    expect(POD_TEMPLATE_PATHS["apps/v1/Deployment"]).toBe("spec.template.");
    expect(POD_TEMPLATE_PATHS["batch/v1/CronJob"]).toBe("spec.jobTemplate.spec.template.");
    for (const [k, v] of Object.entries(POD_TEMPLATE_PATHS)) expect(WORKLOADS_REGO_LIB).toContain(`\t${JSON.stringify(k)}: ${JSON.stringify(v)},\n`);
  });
});

// Other controls' CEL computes a pod field (`spec.volumes[" + string(i) + "]…`) and splices it into
// the literal podFinding built around a placeholder: the workload's prefix must follow it there.
describe("a pod finding whose field is computed in CEL", () => {
  it("gets the workload's path too, and stays the pod's path in a pod", () => {
    const base = catalogue.find((x) => x.slug === "host-namespaces")!;
    const finding = podFinding("@FIELD@", '"true"', "sharing the host PID namespace is not allowed (allowHostPID is false)").replace(
      "@FIELD@",
      '" + ("spec." + "hostPID") + "',
    );
    const cel: ControlCel = { variables: [{ name: "findings", expression: `${field("variables.pod", "spec.hostPID")} == true ? [${finding}] : []` }] };
    const computed = { ...base, cel };
    const settings = controlSettingsSchema(base).parse({});
    const results = gatorTest(
      [
        renderTemplate(computed, "both"),
        renderConstraint(computed, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, NOW),
        ...renderExpansionTemplates(),
      ],
      [named(workload("Deployment", { hostPID: true }), "root-web"), named(pod({ hostPID: true }), "root-shell")],
      "cel",
    );
    const tail =
      'is true; sharing the host PID namespace is not allowed (allowHostPID is false). To allow it, exempt namespace "team-a" in Gatehouse control host-namespaces.';
    expect(results.map((r) => r.msg).sort()).toEqual([
      `[Implied by gatehouse-pod-templates] Deployment team-a/root-web: spec.template.spec.hostPID ${tail}`,
      `pod team-a/root-shell: spec.hostPID ${tail}`,
    ]);
  });
});

// A container's value inherited from the pod-level securityContext: inside a workload the reason
// names the pod template's field by its path in the workload, through common/gatehouse.rego
// pod_field_ref and cel.ts podFieldRef. The samples are the controls' own (gator proves their
// verdicts in each control's test); this pins their words under both engines.
const APP = "registry.example.com/team/app:1.4.2";
const inheritedCases = [
  { slug: "seccomp", sample: "inherited-unconfined-deployment" },
  { slug: "seccomp", sample: "inherited-unconfined-cronjob" },
  { slug: "users-and-groups", sample: "inherited-nonroot-false-deployment" },
  { slug: "users-and-groups", sample: "inherited-gid-outside-cronjob" },
  { slug: "apparmor", sample: "inherited-unconfined-cronjob" },
  // A bare pod keeps the pod's own path.
  { slug: "seccomp", sample: "unconfined-refused" },
] as const;
const DEPLOYMENT = `[Implied by gatehouse-pod-templates] Deployment team-a/`;
const CRONJOB = `[Implied by gatehouse-cronjob-templates] CronJob team-a/`;
const hint = (slug: string) => `To allow it, exempt namespace "team-a" or image "${APP}" in Gatehouse control ${slug}.`;
const SECCOMP_WHY =
  "allowed seccomp profiles: Localhost/*, RuntimeDefault; a profile must be set (unset runs Unconfined unless the kubelet enables SeccompDefault)";
const inheritedWords: Record<string, string[]> = {
  "inherited-unconfined-deployment:seccomp": [
    `${DEPLOYMENT}inherited-unconfined-deployment: container "app" (spec.template.spec.containers[0], image ${APP}): securityContext.seccompProfile is "Unconfined"; inherited from the pod template's spec.template.spec.securityContext.seccompProfile; ${SECCOMP_WHY}. ${hint("seccomp")}`,
  ],
  "inherited-unconfined-cronjob:seccomp": [
    `${CRONJOB}inherited-unconfined-cronjob: container "app" (spec.jobTemplate.spec.template.spec.containers[0], image ${APP}): securityContext.seccompProfile is "Unconfined"; inherited from the pod template's spec.jobTemplate.spec.template.spec.securityContext.seccompProfile; ${SECCOMP_WHY}. ${hint("seccomp")}`,
  ],
  "inherited-nonroot-false-deployment:users-and-groups": [
    `${DEPLOYMENT}inherited-nonroot-false-deployment: container "app" (spec.template.spec.containers[0], image ${APP}): securityContext.runAsNonRoot is false; inherited from the pod template's spec.template.spec.securityContext.runAsNonRoot; the container must run as non-root: runAsNonRoot true, or a non-zero runAsUser, on the container or the pod. ${hint("users-and-groups")}`,
  ],
  "inherited-gid-outside-cronjob:users-and-groups": [
    `${CRONJOB}inherited-gid-outside-cronjob: container "app" (spec.jobTemplate.spec.template.spec.containers[0], image ${APP}): securityContext.runAsGroup is 0; inherited from the pod template's spec.jobTemplate.spec.template.spec.securityContext.runAsGroup; allowed group ids: 1000-1999 (rule MayRunAs). ${hint("users-and-groups")}`,
  ],
  "inherited-unconfined-cronjob:apparmor": [
    `${CRONJOB}inherited-unconfined-cronjob: container "app" (spec.jobTemplate.spec.template.spec.containers[0], image ${APP}): securityContext.appArmorProfile is "unconfined"; inherited from the pod template's spec.jobTemplate.spec.template.spec.securityContext.appArmorProfile; allowed AppArmor profiles: localhost/*, runtime/default. ${hint("apparmor")}`,
  ],
};

describe.each(["rego", "cel"] as const)("a reason about an inherited pod field under %s (gator)", (engine) => {
  const results = new Map<string, string[]>();
  beforeAll(async () => {
    for (const { slug, sample } of inheritedCases) {
      const c = catalogue.find((x) => x.slug === slug)!;
      const { samples } = (await import(`./${slug}/samples.ts`)) as { samples: Sample[] };
      const s = samples.find((x) => x.name === sample)!;
      const settings = controlSettingsSchema(c).parse({ options: s.options, exemptions: s.exemptions });
      const found = gatorTest(
        [
          renderTemplate(c, engine === "cel" ? "both" : "webhook"),
          renderConstraint(c, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, NOW),
          ...renderExpansionTemplates(),
        ],
        [named(s.object, sample)],
        engine,
      );
      results.set(`${sample}:${slug}`, found.map((r) => r.msg).sort());
    }
  });
  const msgs = (sample: string, slug: string) => results.get(`${sample}:${slug}`)!;

  it.each(inheritedCases.filter((x) => x.sample !== "unconfined-refused"))("$slug sample $sample names the pod template's field", ({ slug, sample }) => {
    expect(msgs(sample, slug)).toEqual(inheritedWords[`${sample}:${slug}`]);
  });

  it("a pod's reason still names the pod's spec.securityContext", () => {
    const setup = msgs("unconfined-refused", "seccomp").filter((m) => m.includes('init container "setup"'));
    expect(setup).toHaveLength(1);
    expect(setup[0]).toContain("inherited from the pod's spec.securityContext.seccompProfile; ");
    expect(setup[0]).not.toContain("pod template");
  });
});
