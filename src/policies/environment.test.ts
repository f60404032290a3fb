import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { readFileSync } from "node:fs";
import { gatorTest, GatorError } from "../../test/harness/gator.ts";
import { catalogue } from "./catalogue.ts";
import { EXPANSION_NAMES } from "./expansion.ts";
import { contentHash } from "./hash.ts";
import { EnvironmentSettings, type EnvironmentSettingsInput, fieldIssues, renderEnvironment, toYaml } from "./index.ts";
import { HASH_ANNOTATION, renderTemplate, type K8sObject } from "./render.ts";
import { container, pod } from "./sample.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const render = (input: EnvironmentSettingsInput, now = NOW) => renderEnvironment(EnvironmentSettings.parse(input), now);
const allEnabled: EnvironmentSettingsInput = { controls: Object.fromEntries(catalogue.map((c) => [c.id, { enabled: true }])) };
const issuesOf = (input: unknown) => {
  const r = EnvironmentSettings.safeParse(input);
  expect(r.success).toBe(false);
  return fieldIssues(r.error!);
};

describe("environment rendering", () => {
  it("renders nothing for an environment with no controls, and says so", () => {
    const out = render({});
    expect(out.objects).toEqual([]);
    expect(out.summary[0]).toBe(`0 of ${catalogue.length} controls enabled`);
  });

  it("orders templates, then constraints, then expansion templates, in catalogue order", () => {
    const { objects } = render(allEnabled);
    const n = catalogue.length;
    expect(objects.slice(0, n).map((o) => o.kind)).toEqual(Array(n).fill("ConstraintTemplate"));
    expect(objects.slice(n, 2 * n).map((o) => o.kind)).toEqual(catalogue.map((c) => c.kind));
    expect(objects.slice(2 * n).map((o) => o.metadata.name)).toEqual(EXPANSION_NAMES);
    expect(objects.slice(n, 2 * n).map((o) => o.metadata.name)).toEqual(catalogue.map((c) => c.slug));
  });

  it("labels every object as managed by gatehouse and seals it with a content hash", () => {
    for (const o of render(allEnabled).objects) {
      expect(o.metadata.labels["app.kubernetes.io/managed-by"]).toBe("gatehouse");
      const { [HASH_ANNOTATION]: hash, ...rest } = o.metadata.annotations;
      expect(hash).toBe(contentHash({ ...o, metadata: { ...o.metadata, annotations: rest } }));
    }
  });

  it("is deterministic: same settings (in any key order) give byte-identical YAML", () => {
    const a = { enforcementAction: "warn" as const, controls: { capabilities: { options: { allowedAdd: ["net_admin", "CHOWN"] } } } };
    const b = { controls: { capabilities: { options: { allowedAdd: ["CAP_CHOWN", "NET_ADMIN"] } } }, enforcementAction: "warn" as const };
    expect(toYaml(render(a).objects)).toBe(toYaml(render(b).objects));
    expect(toYaml(render(allEnabled).objects)).toBe(toYaml(render(structuredClone(allEnabled)).objects));
  });

  it("changes the constraint's hash, not the template's, when only settings change", () => {
    const x = render({ controls: { capabilities: { options: { allowedAdd: ["CHOWN"] } } } }).objects;
    const y = render({ controls: { capabilities: { options: { allowedAdd: ["KILL"] } } } }).objects;
    expect(x[0]!.metadata.annotations[HASH_ANNOTATION]).toBe(y[0]!.metadata.annotations[HASH_ANNOTATION]);
    expect(x[1]!.metadata.annotations[HASH_ANNOTATION]).not.toBe(y[1]!.metadata.annotations[HASH_ANNOTATION]);
  });

  it("applies the environment's enforcement action unless a control sets its own", () => {
    const { objects } = render({ enforcementAction: "dryrun", controls: { privilegedContainers: {}, hostNamespaces: { enforcementAction: "warn" } } });
    const actions = objects.filter((o) => o.apiVersion.startsWith("constraints.")).map((o) => [o.metadata.name, o.spec.enforcementAction]);
    expect(actions).toEqual([
      ["privileged-containers", "dryrun"],
      ["host-namespaces", "warn"],
    ]);
  });

  it("skips disabled controls", () => {
    const { objects, summary } = render({ controls: { privilegedContainers: { enabled: false }, hostNamespaces: {} } });
    expect(objects.map((o) => o.metadata.name)).toEqual(["gatehousehostnamespaces", "host-namespaces", ...EXPANSION_NAMES]);
    expect(summary.at(-1)).toContain("privileged-containers");
  });

  it("exempts kube-system, gatekeeper-system and gatehouse-system by default, and lets users change that", () => {
    const constraint = (input: EnvironmentSettingsInput) => render(input).objects.find((o) => o.kind === "GatehousePrivilegedContainers")!;
    const match = (o: K8sObject) => (o.spec.match as { excludedNamespaces?: string[] }).excludedNamespaces;
    expect(match(constraint({ controls: { privilegedContainers: {} } }))).toEqual(["gatehouse-system", "gatekeeper-system", "kube-system"]);
    expect(match(constraint({ exemptions: { namespaces: [] }, controls: { privilegedContainers: {} } }))).toBeUndefined();
    expect(
      match(constraint({ exemptions: { namespaces: [] }, controls: { privilegedContainers: { exemptions: { namespaces: [{ pattern: "kube-*" }] } } } })),
    ).toEqual(["kube-*"]);
  });

  it("does not render an expired exemption, and says so in the summary", () => {
    const input: EnvironmentSettingsInput = {
      exemptions: { namespaces: [], images: [{ pattern: "registry.example.com/legacy/*", expiresAt: "2026-07-01T00:00:00Z" }] },
      controls: { privilegedContainers: { exemptions: { namespaces: [{ pattern: "batch-*", expiresAt: "2026-07-01T00:00:00+02:00" }] } } },
    };
    const before = render(input, new Date("2026-06-30T12:00:00Z"));
    const after = render(input, new Date("2026-07-01T00:00:00Z"));
    const c = (r: typeof before) => r.objects.find((o) => o.kind === "GatehousePrivilegedContainers")!.spec;
    expect(c(before).match).toMatchObject({ excludedNamespaces: ["batch-*"] });
    expect(c(before).parameters).toEqual({ exemptImages: ["registry.example.com/legacy/*"] });
    expect(c(after).match).not.toHaveProperty("excludedNamespaces");
    expect(c(after).parameters).toEqual({ exemptImages: [] });
    expect(after.summary.join("\n")).toContain("1 expired exemption(s) not rendered");
  });

  it("writes YAML that YAML 1.1 readers (kubectl, Gatekeeper) read back as the same strings", () => {
    const { objects } = render({
      exemptions: { namespaces: [{ pattern: "y" }, { pattern: "on" }, { pattern: "no*" }] },
      controls: { privilegedContainers: {} },
    });
    const docs = parseAllDocuments(toYaml(objects), { version: "1.1" }).map((d) => d.toJS());
    expect(docs).toEqual(JSON.parse(JSON.stringify(objects)));
    expect(docs[1].spec.match.excludedNamespaces).toEqual(["no*", "on", "y"]);
  });

  it("renders the example settings shipped in examples/", () => {
    const input = parse(readFileSync(new URL("../../examples/settings.yaml", import.meta.url), "utf8"));
    const { objects, summary } = render(input);
    expect(objects.filter((o) => o.kind === "ConstraintTemplate")).toHaveLength(4);
    expect(summary.join("\n")).toContain("capabilities [warn]");
  });
});

describe("environment settings schema rejects bad input with the failing path", () => {
  it.each([
    [{ controls: { notAControl: {} } }, "controls", /notAControl/],
    [{ controls: { privilegedContainers: { enabeld: true } } }, "controls.privilegedContainers", /enabeld/],
    [{ enforcementAction: "block" }, "enforcementAction", /deny|warn|dryrun/],
    [{ controls: { hostNamespaces: { enforcementAction: "audit" } } }, "controls.hostNamespaces.enforcementAction", /./],
    [{ exemptions: { namespaces: [{ pattern: "ku*be" }] } }, "exemptions.namespaces[0].pattern", /namespace name/],
    [{ exemptions: { namespaces: [{ pattern: "" }] } }, "exemptions.namespaces[0].pattern", /./],
    [{ exemptions: { images: [{ pattern: "nginx *" }] } }, "exemptions.images[0].pattern", /image reference/],
    [{ exemptions: { images: [{ pattern: "a*b" }] } }, "exemptions.images[0].pattern", /image reference/],
    [{ exemptions: { namespaces: [{ pattern: "a" }, { pattern: "a" }] } }, "exemptions.namespaces[1].pattern", /duplicate/],
    [{ exemptions: { images: [{ pattern: "a", expiresAt: "next tuesday" }] } }, "exemptions.images[0].expiresAt", /./],
    [{ exemptions: { images: [{ pattern: "a", reason: "" }] } }, "exemptions.images[0].reason", /./],
    [
      { controls: { privilegedContainers: { exemptions: { images: [{ pattern: "a", why: "x" }] } } } },
      "controls.privilegedContainers.exemptions.images[0]",
      /why/,
    ],
    [{ controls: { privilegedContainers: { options: { foo: 1 } } } }, "controls.privilegedContainers.options", /foo/],
  ])("%j → %s", (input, path, message) => {
    const issues = issuesOf(input);
    expect(issues.map((i) => i.path)).toContain(path);
    expect(issues.find((i) => i.path === path)!.message).toMatch(message);
  });
});

describe("every template compiles in the real engine", () => {
  it("gator loads all templates, constraints and expansion templates with every control enabled", () => {
    const { objects } = render(allEnabled);
    // A compliant pod: loading succeeds and nothing is reported.
    const ok = pod({
      securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
      containers: [
        container("app", {
          securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
        }),
      ],
    });
    expect(gatorTest(objects, [ok])).toEqual([]);
  });

  it("a template whose Rego does not compile fails here, not in a cluster", () => {
    const rego = catalogue[0]!.rego.replace(/\ncontrol := /, "\nfindings contains f if {\n\tf := gh.no_such_function(1)\n}\n\ncontrol := ");
    expect(rego).toContain("no_such_function");
    const broken = { ...catalogue[0]!, rego };
    expect(() => gatorTest([renderTemplate(broken)], [])).toThrow(GatorError);
  });

  it("reports the enforcement action each constraint carries (deny, warn, dryrun)", () => {
    const privileged = pod({ containers: [container("app", { securityContext: { privileged: true } })] });
    for (const action of ["deny", "warn", "dryrun"] as const) {
      const { objects } = render({ controls: { privilegedContainers: { enforcementAction: action } } });
      const found = gatorTest(objects, [privileged]);
      expect(found.map((r) => r.enforcementAction)).toEqual([action]);
    }
  });

  it("an exemption that expired is enforced again", () => {
    const input: EnvironmentSettingsInput = {
      controls: { privilegedContainers: { exemptions: { namespaces: [{ pattern: "team-*", expiresAt: "2026-07-01T00:00:00Z" }] } } },
    };
    const privileged = pod({ containers: [container("app", { securityContext: { privileged: true } })] });
    expect(gatorTest(render(input, new Date("2026-06-30T00:00:00Z")).objects, [privileged])).toEqual([]);
    expect(gatorTest(render(input, new Date("2026-07-02T00:00:00Z")).objects, [privileged])).toHaveLength(1);
  });
});
