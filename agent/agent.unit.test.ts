// The agent's pure parts: drift comparison, audit fingerprints, backoff and configuration.
// Everything that talks to a cluster is proved against a real kube-apiserver in test/cluster/.
import { describe, expect, it } from "vitest";
import { auditFingerprint, buildAuditReport } from "./audit.ts";
import { loadAgentConfig } from "./config.ts";
import { canonical, inSync, withDesired } from "./drift.ts";
import { backoffMs } from "./main.ts";
import { AuditReport } from "../src/protocol/agent.ts";

const want = {
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: "GatehousePrivilegedContainers",
  metadata: { name: "privileged-containers", labels: { "app.kubernetes.io/managed-by": "gatehouse" }, annotations: { "gatehouse.dev/content-hash": "sha256:1" } },
  spec: { enforcementAction: "deny", parameters: { a: [1, 2], b: { c: "d" } } },
};
const live = (patch: Record<string, unknown> = {}) => ({
  ...structuredClone(want),
  metadata: { ...structuredClone(want.metadata), resourceVersion: "7", labels: { ...want.metadata.labels, team: "x" } },
  status: { totalViolations: 3 },
  ...patch,
});

describe("drift", () => {
  it("canonical JSON ignores key order but not array order", () => {
    expect(canonical({ b: 1, a: { d: 2, c: 3 } })).toBe(canonical({ a: { c: 3, d: 2 }, b: 1 }));
    expect(canonical([1, 2])).not.toBe(canonical([2, 1]));
  });

  it("an object with our spec, labels and annotations is in sync, whatever else it carries", () => {
    expect(inSync(want, live())).toBe(true);
  });

  it("an edited value, an added field, a removed label or a changed hash is drift", () => {
    expect(inSync(want, live({ spec: { ...want.spec, enforcementAction: "dryrun" } }))).toBe(false);
    expect(inSync(want, live({ spec: { ...want.spec, match: { namespaces: ["x"] } } }))).toBe(false);
    expect(inSync(want, live({ metadata: { name: "privileged-containers", annotations: want.metadata.annotations } }))).toBe(false);
    expect(inSync(want, live({ metadata: { ...want.metadata, annotations: { "gatehouse.dev/content-hash": "sha256:2" } } }))).toBe(false);
  });

  it("withDesired keeps the live object's identity and others' labels, and puts back our spec", () => {
    const edited = live({ spec: { ...want.spec, match: { namespaces: ["x"] } } });
    const fixed = withDesired(edited as never, want);
    expect(fixed.metadata?.resourceVersion).toBe("7");
    expect(fixed.metadata?.labels).toMatchObject({ team: "x", "app.kubernetes.io/managed-by": "gatehouse" });
    expect(fixed.spec).toEqual(want.spec);
  });
});

describe("audit report", () => {
  const constraint = (auditTimestamp: string | undefined, names: string[], total = names.length) => ({
    apiVersion: "constraints.gatekeeper.sh/v1beta1",
    kind: "GatehousePrivilegedContainers",
    metadata: { name: "privileged-containers", labels: { "gatehouse.dev/control": "privileged-containers" } },
    spec: { enforcementAction: "warn" },
    status: {
      auditTimestamp,
      totalViolations: total,
      violations: names.map((name) => ({ group: "", version: "v1", kind: "Pod", namespace: "app", name, message: `pod ${name} is privileged` })),
    },
  });

  it("replaces what the API cannot store (U+0000, an unpaired surrogate) instead of losing the report", () => {
    const c = constraint("2026-11-27T10:00:00Z", ["a"]);
    c.status.violations[0]!.message = "env X=\u0000 and \ud800 here";
    const report = buildAuditReport([c], new Date("2026-11-27T10:00:05Z"));
    expect(report.constraints[0]!.violations[0]!.message).toBe("env X=\uFFFD and \uFFFD here");
    expect(AuditReport.safeParse(report).success).toBe(true);
  });

  it("maps Gatekeeper's status, fills the action from the constraint and flags truncation", () => {
    const report = buildAuditReport([constraint("2026-11-27T10:00:00Z", ["a", "b"], 25)], new Date("2026-11-27T10:00:05Z"));
    expect(report.constraints[0]).toMatchObject({ control: "privileged-containers", enforcementAction: "warn", totalViolations: 25, truncated: true });
    expect(report.constraints[0]!.violations[0]).toEqual({ group: "", version: "v1", kind: "Pod", namespace: "app", name: "a", message: "pod a is privileged", enforcementAction: "warn" });
  });

  it("the fingerprint ignores audit and collection times but not violations or a first audit", () => {
    const at = (ts: string | undefined, names: string[], now: string) => auditFingerprint(buildAuditReport([constraint(ts, names)], new Date(now)));
    const base = at("2026-11-27T10:00:00Z", ["a"], "2026-11-27T10:00:01Z");
    expect(at("2026-11-27T10:05:00Z", ["a"], "2026-11-27T10:05:01Z")).toBe(base);
    expect(at("2026-11-27T10:05:00Z", ["a", "b"], "2026-11-27T10:05:01Z")).not.toBe(base);
    expect(at(undefined, [], "2026-11-27T10:00:01Z")).not.toBe(at("2026-11-27T10:00:00Z", [], "2026-11-27T10:00:01Z"));
  });
});

describe("backoff", () => {
  it("doubles from about a second, never exceeds the poll interval, and is jittered", () => {
    const interval = 30_000;
    expect(backoffMs(1, interval, () => 0)).toBe(500);
    expect(backoffMs(1, interval, () => 1)).toBe(1000);
    expect(backoffMs(4, interval, () => 1)).toBe(8000);
    for (let n = 1; n < 60; n++) expect(backoffMs(n, interval, Math.random)).toBeLessThanOrEqual(interval);
    expect(backoffMs(50, interval, () => 0.5)).toBe(22_500);
  });
});

describe("agent configuration", () => {
  it("needs the API URL and names a bad value's variable", () => {
    expect(() => loadAgentConfig({})).toThrow(/GATEHOUSE_API_URL/);
    expect(() => loadAgentConfig({ GATEHOUSE_API_URL: "https://x", GATEHOUSE_POLL_INTERVAL_SECONDS: "0" })).toThrow(/GATEHOUSE_POLL_INTERVAL_SECONDS/);
  });

  it("defaults to the mounted token file and strips a trailing slash from the URL", () => {
    const c = loadAgentConfig({ GATEHOUSE_API_URL: "https://api.example.com/", GATEHOUSE_TOKEN: "gha_a_b" });
    expect(c.apiUrl).toBe("https://api.example.com");
    expect(c.token()).toBe("gha_a_b");
    expect(c.templateTimeoutMs).toBe(60_000);
  });
});
