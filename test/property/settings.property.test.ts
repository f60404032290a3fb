// Property tests: random valid settings documents render to objects the real engine accepts
// and enforces as the settings say; random invalid ones are refused with the failing path.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { catalogue } from "../../src/policies/catalogue.ts";
import { EnvironmentSettings, fieldIssues, renderEnvironment, type K8sObject } from "../../src/policies/index.ts";
import { IMAGE, container, pod } from "../../src/policies/sample.ts";
import { gatorTest } from "../harness/gator.ts";
import { settingsDocument } from "./arbitraries.ts";

const NOW = new Date("2026-12-01T00:00:00Z");
const RUNS = 1_000;
// gator's load time grows faster than linearly with the number of constraints: small batches.
const CHUNK = 20;

const matches = (p: string, s: string) => (p.endsWith("*") ? s.startsWith(p.slice(0, -1)) : p === s);
const active = (list: { pattern: string; expiresAt?: string | undefined }[]) =>
  list.filter((e) => !e.expiresAt || Date.parse(e.expiresAt) > NOW.getTime()).map((e) => e.pattern);

describe("random valid settings documents", () => {
  const docs = fc.sample(settingsDocument, { numRuns: Math.round(RUNS * 1.25), seed: 20261127 });
  const parsed = docs.map((d) => EnvironmentSettings.safeParse(d));
  const valid = parsed.flatMap((p) => (p.success ? [p.data] : [])).slice(0, RUNS);

  it("are nearly all accepted by the schema (the generator and the schema agree)", () => {
    const rejected = parsed.filter((p) => !p.success).map((p) => fieldIssues(p.error!)[0]);
    expect(valid).toHaveLength(RUNS);
    // The generator may produce a few documents the schema rightly refuses (e.g. an allowed
    // unsafe sysctl already covered by a forbidden glob); far more would mean a schema too strict.
    expect(rejected.length / docs.length).toBeLessThan(0.2);
  });

  it(`${RUNS} of them render to objects gator loads, and enforce privileged-containers exactly as set`, () => {
    const privileged = pod({ containers: [container("app", { securityContext: { privileged: true } })] }, { name: "probe-privileged" });
    const templates = new Map<string, string>();
    let constraints = 0;
    for (let start = 0; start < valid.length; start += CHUNK) {
      const policy: K8sObject[] = [];
      const expected = new Map<string, string>(); // constraint name → enforcement action
      valid.slice(start, start + CHUNK).forEach((settings, k) => {
        const i = start + k;
        const { objects } = renderEnvironment(settings, NOW);
        for (const o of objects) {
          if (o.kind === "ConstraintTemplate" || o.kind === "ExpansionTemplate") {
            const text = JSON.stringify(o);
            // Templates do not depend on settings: the same name always renders the same object.
            expect(templates.get(o.metadata.name) ?? text).toBe(text);
            templates.set(o.metadata.name, text);
          } else {
            policy.push({ ...o, metadata: { ...o.metadata, name: `p${i}-${o.metadata.name}` } });
            constraints++;
          }
        }
        const c = settings.controls.privilegedContainers;
        if (c?.enabled) {
          const ns = [...active(settings.exemptions.namespaces), ...active(c.exemptions.namespaces)];
          const img = [...active(settings.exemptions.images), ...active(c.exemptions.images)];
          if (!ns.some((p) => matches(p, "team-a")) && !img.some((p) => matches(p, IMAGE))) {
            expected.set(`p${i}-privileged-containers`, c.enforcementAction ?? settings.enforcementAction);
          }
        }
      });
      const all = [...[...templates.values()].map((t) => JSON.parse(t) as K8sObject), ...policy];
      const found = gatorTest(all, [privileged]).filter((r) => r.constraint.kind === "GatehousePrivilegedContainers");
      const seen = new Map(found.map((r) => [r.constraint.metadata.name, r.enforcementAction]));
      expect(seen).toEqual(expected);
    }
    expect(templates.size).toBeGreaterThan(catalogue.length); // every template (and the expansions) came up
    expect(constraints).toBeGreaterThan(RUNS);
  }, 600_000);
});

// Each mutation breaks a valid document in one known way; the schema must name that path.
type Doc = { enforcementAction?: unknown; exemptions?: Record<string, unknown[]>; controls: Record<string, Record<string, unknown>> };
const control = (d: Doc, id: string) => (d.controls[id] ??= {});
const opts = (d: Doc, id: string) => (control(d, id).options ??= {}) as Record<string, unknown>;
const push = (list: unknown, v: unknown) => [...((list as unknown[] | undefined) ?? []), v];
const mutations: { name: string; apply: (d: Doc) => string }[] = [
  { name: "unknown option", apply: (d) => ((opts(d, "hostNamespaces").allowHostNet = true), "controls.hostNamespaces.options") },
  { name: "unknown control", apply: (d) => ((d.controls.privileged = {}), "controls") },
  { name: "bad enforcement action", apply: (d) => ((d.enforcementAction = "block"), "enforcementAction") },
  { name: "bad control action", apply: (d) => ((control(d, "seccomp").enforcementAction = "audit"), "controls.seccomp.enforcementAction") },
  {
    name: "namespace glob in the middle",
    apply: (d) => {
      const ex = (d.exemptions ??= {});
      ex.namespaces = push(ex.namespaces, { pattern: "te*am" });
      return `exemptions.namespaces[${ex.namespaces.length - 1}].pattern`;
    },
  },
  {
    name: "image with a space",
    apply: (d) => {
      const ex = (control(d, "sysctls").exemptions ??= {}) as Record<string, unknown[]>;
      ex.images = push(ex.images, { pattern: "nginx latest" });
      return `controls.sysctls.exemptions.images[${ex.images.length - 1}].pattern`;
    },
  },
  { name: "bad expiry", apply: (d) => ((d.exemptions = { images: [{ pattern: "x", expiresAt: "soon" }] }), "exemptions.images[0].expiresAt") },
  {
    name: "port out of range",
    apply: (d) => ((opts(d, "hostNetworkPorts").hostPorts = [{ min: 80, max: 70000 }]), "controls.hostNetworkPorts.options.hostPorts[0].max"),
  },
  {
    name: "min > max",
    apply: (d) => (
      (opts(d, "usersAndGroups").runAsUser = { rule: "MustRunAs", ranges: [{ min: 10, max: 5 }] }), "controls.usersAndGroups.options.runAsUser.ranges[0].max"
    ),
  },
  {
    name: "negative id",
    apply: (d) => (
      (opts(d, "usersAndGroups").fsGroup = { rule: "MayRunAs", ranges: [{ min: -1, max: 5 }] }), "controls.usersAndGroups.options.fsGroup.ranges[0].min"
    ),
  },
  {
    name: "overlapping ranges",
    apply: (d) => (
      (opts(d, "usersAndGroups").runAsGroup = {
        rule: "MustRunAs",
        ranges: [
          { min: 0, max: 10 },
          { min: 5, max: 20 },
        ],
      }),
      "controls.usersAndGroups.options.runAsGroup.ranges[1]"
    ),
  },
  {
    name: "capability with a space",
    apply: (d) => ((opts(d, "capabilities").allowedAdd = ["CHOWN", "NET ADMIN"]), "controls.capabilities.options.allowedAdd[1]"),
  },
  { name: "invalid sysctl glob", apply: (d) => ((opts(d, "sysctls").forbidden = ["ker*nel"]), "controls.sysctls.options.forbidden[0]") },
  { name: "empty string", apply: (d) => ((opts(d, "flexVolumeDrivers").allowed = [""]), "controls.flexVolumeDrivers.options.allowed[0]") },
  {
    name: "relative host path",
    apply: (d) => ((opts(d, "hostPaths").allowed = [{ pathPrefix: "var/log" }]), "controls.hostPaths.options.allowed[0].pathPrefix"),
  },
  { name: "unknown volume type", apply: (d) => ((opts(d, "volumeTypes").allowed = ["emptyDir", "tmpfs"]), "controls.volumeTypes.options.allowed[1]") },
  { name: "wrong type", apply: (d) => ((control(d, "procMount").enabled = "yes"), "controls.procMount.enabled") },
];

describe("random invalid settings documents", () => {
  it("are refused by the schema with the path of what is wrong, so they never reach the renderer", () => {
    fc.assert(
      fc.property(settingsDocument, fc.constantFrom(...mutations), (doc, mutation) => {
        const broken = structuredClone(doc) as Doc;
        const path = mutation.apply(broken);
        const result = EnvironmentSettings.safeParse(broken);
        expect(result.success, mutation.name).toBe(false);
        expect(
          fieldIssues(result.error!).map((i) => i.path),
          mutation.name,
        ).toContain(path);
      }),
      { numRuns: 1_000, seed: 20261127 },
    );
  });
});
