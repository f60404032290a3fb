// The agent's pure parts: drift comparison, audit fingerprints, backoff and configuration, and
// the bound on one pass's retries (against a scripted cluster that never settles, which a real
// one cannot be made to be). Everything else that talks to a cluster is proved against a real
// kube-apiserver in test/cluster/.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { auditFingerprint, buildAuditReport } from "./audit.ts";
import { loadAgentConfig } from "./config.ts";
import { canonical, inSync, inSyncCached, strayFields, withDesired } from "./drift.ts";
import { emitsAdmissionEvents, type Kube, type LiveObject } from "./kube.ts";
import { backoffMs } from "./main.ts";
import { createMetrics } from "./metrics.ts";
import { auditHealth, initialState, MAX_REPLACE_ATTEMPTS, reconcileOnce } from "./reconcile.ts";
import { AuditReport, type DesiredState } from "../src/protocol/agent.ts";

const want = {
  apiVersion: "constraints.gatekeeper.sh/v1beta1",
  kind: "GatehousePrivilegedContainers",
  metadata: {
    name: "privileged-containers",
    labels: { "app.kubernetes.io/managed-by": "gatehouse" },
    annotations: { "gatehouse.dev/content-hash": "sha256:1" },
  },
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

  it("an edited value, a field someone added, a removed label or a changed hash is drift", () => {
    expect(inSync(want, live({ spec: { ...want.spec, enforcementAction: "dryrun" } }))).toBe(false);
    expect(inSync(want, live({ spec: { ...want.spec, parameters: { a: [1], b: { c: "d" } } } }))).toBe(false);
    const edited = live({ spec: { ...want.spec, match: { namespaces: ["x"] } } });
    edited.metadata = {
      ...edited.metadata,
      managedFields: [{ manager: "kubectl-edit", operation: "Update", fieldsV1: { "f:spec": { "f:match": { ".": {}, "f:namespaces": {} } } } }],
    } as never;
    expect(strayFields(want, edited as never)).toEqual(["spec.match"]);
    expect(inSync(want, edited as never)).toBe(false);
    expect(inSync(want, live({ metadata: { name: "privileged-containers", annotations: want.metadata.annotations } }))).toBe(false);
    expect(inSync(want, live({ metadata: { ...want.metadata, annotations: { "gatehouse.dev/content-hash": "sha256:2" } } }))).toBe(false);
  });

  it("a field the API server defaulted (no field manager owns it) is not drift; our own fields and status are not either", () => {
    const defaulted = live({ spec: { ...want.spec, parameters: { ...want.spec.parameters, b: { c: "d", defaulted: false } }, scope: "*" } });
    defaulted.metadata = {
      ...defaulted.metadata,
      managedFields: [
        {
          manager: "gatehouse",
          operation: "Apply",
          fieldsV1: { "f:spec": { "f:enforcementAction": {}, "f:parameters": { "f:a": {}, "f:b": { "f:c": {} } } } },
        },
        { manager: "gatekeeper", operation: "Update", subresource: "status", fieldsV1: { "f:status": { "f:totalViolations": {} } } },
      ],
    } as never;
    expect(strayFields(want, defaulted as never)).toEqual([]);
    expect(inSync(want, defaulted as never)).toBe(true);
  });

  it("a field our own manager still owns but no longer sets is drift (replaced away)", () => {
    const old = live({ spec: { ...want.spec, parameters: { ...want.spec.parameters, gone: 1 } } });
    old.metadata = {
      ...old.metadata,
      managedFields: [{ manager: "gatehouse", operation: "Update", fieldsV1: { "f:spec": { "f:parameters": { "f:gone": {} } } } }],
    } as never;
    expect(strayFields(want, old as never)).toEqual(["spec.parameters.gone"]);
  });

  it("inSyncCached: the verdict per pair of objects, recomputed for a replaced live or desired object", () => {
    const synced = live();
    expect(inSyncCached(want, synced as never)).toBe(true);
    expect(inSyncCached(want, synced as never)).toBe(true);
    // A watch event brings a new object (informers never mutate the one they handed out).
    const drifted = live({ spec: { ...want.spec, enforcementAction: "dryrun" } });
    expect(inSyncCached(want, drifted as never)).toBe(false);
    // A new desired state (a 200, not a 304) is a new object too: judged afresh against the same live one.
    expect(inSyncCached({ ...want, spec: { ...want.spec, enforcementAction: "dryrun" } }, drifted as never)).toBe(true);
    expect(inSyncCached(want, drifted as never)).toBe(false);
  });

  it("withDesired keeps the live object's identity and others' labels, and puts back our spec", () => {
    const edited = live({ spec: { ...want.spec, match: { namespaces: ["x"] } } });
    const fixed = withDesired(edited as never, want);
    expect(fixed.metadata?.resourceVersion).toBe("7");
    expect(fixed.metadata?.labels).toMatchObject({ team: "x", "app.kubernetes.io/managed-by": "gatehouse" });
    expect(fixed.spec).toEqual(want.spec);
  });
});

describe("Gatekeeper audit health", () => {
  const now = new Date("2026-11-27T10:10:00Z");
  const c = (auditTimestamp: string | undefined, created: Date | string) =>
    ({
      apiVersion: "constraints.gatekeeper.sh/v1beta1",
      kind: "K",
      metadata: { name: "n", creationTimestamp: created },
      status: { auditTimestamp },
    }) as never as LiveObject;
  it("fresh while the newest audit is at most staleAfter old; a never-audited constraint counts from its creation; none: unknown", () => {
    expect(auditHealth([], now, 180)).toBeNull();
    expect(auditHealth([c("2026-11-27T10:07:00Z", "2026-11-01T00:00:00Z"), c("2026-11-27T09:00:00Z", "2026-11-01T00:00:00Z")], now, 180)).toEqual({
      lastAuditAt: "2026-11-27T10:07:00.000Z",
      staleAfterSeconds: 180,
      fresh: true,
    });
    expect(auditHealth([c("2026-11-27T10:06:59Z", "2026-11-01T00:00:00Z")], now, 180)?.fresh).toBe(false);
    expect(auditHealth([c(undefined, new Date("2026-11-27T10:09:00Z"))], now, 180)).toEqual({ lastAuditAt: null, staleAfterSeconds: 180, fresh: true });
    expect(auditHealth([c(undefined, new Date("2026-11-27T09:00:00Z"))], now, 180)?.fresh).toBe(false);
  });
});

describe("reconcile pass: every retry is bounded", () => {
  // A scripted Kube (what a cluster that keeps changing an object looks like from the agent):
  // whatever is written comes back with a field another manager owns. The real API server is in
  // test/cluster/agent-drift.cluster.test.ts; this only proves the bound, which needs a server
  // that never settles.
  it(`an object that never matches costs ${MAX_REPLACE_ATTEMPTS} replaces at most, then is an error of the pass`, async () => {
    const expansion = {
      apiVersion: "expansion.gatekeeper.sh/v1beta1",
      kind: "ExpansionTemplate",
      metadata: { name: "gatehouse-pod-templates", labels: { "app.kubernetes.io/managed-by": "gatehouse" } },
      spec: { applyTo: [] },
    };
    const desired: DesiredState = {
      environmentId: "00000000-0000-4000-8000-000000000001",
      environmentName: "e",
      revision: 1,
      objects: [expansion],
      agent: { pollIntervalSeconds: 30, fieldManager: "gatehouse" },
    };
    const writes: string[] = [];
    const mutated = (o: object): LiveObject => ({
      ...(o as LiveObject),
      spec: { ...(o as { spec: object }).spec, injected: true },
      metadata: { ...(o as LiveObject).metadata, managedFields: [{ manager: "mutator", operation: "Update", fieldsV1: { "f:spec": { "f:injected": {} } } }] },
    });
    const kube: Kube = {
      kubernetesVersion: async () => "v1.36.3",
      gatekeeperInstalled: async () => true,
      gatekeeperController: async () => null,
      gatekeeperWebhookEndpoints: async () => null,
      listManaged: async () => [],
      listAll: async () => [],
      get: async () => null,
      apply: async (o) => (writes.push("apply"), mutated(o)),
      replace: async (o) => (writes.push("replace"), mutated(o)),
      delete: async () => void writes.push("delete"),
      constraintCrds: async () => new Map(),
      listEvents: async () => [],
      readNamespaced: async () => null,
    };
    const api = {
      fetchDesired: async () => ({ changed: true as const, desired, etag: null }),
      postStatus: async () => {},
      postAuditReport: async () => {},
      postAdmissionEvents: async () => {},
    };
    const pass = await reconcileOnce(
      {
        api,
        kube,
        log: pino({ level: "silent" }),
        metrics: createMetrics(),
        agentVersion: "t",
        templateTimeoutMs: 1000,
        auditResendMs: 60_000,
        gatekeeperNamespace: "gatekeeper-system",
      },
      initialState(),
    );
    expect(writes).toEqual(["apply", ...Array(MAX_REPLACE_ATTEMPTS).fill("replace")]);
    expect(pass.writes).toBe(1 + MAX_REPLACE_ATTEMPTS);
    expect(pass.ok).toBe(false);
    expect(pass.error).toMatch(/still differs from the desired state after 5 replace attempts \(fields not ours: spec\.injected\)/);
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
    expect(report.constraints[0]!.violations[0]).toEqual({
      group: "",
      version: "v1",
      kind: "Pod",
      namespace: "app",
      name: "a",
      message: "pod a is privileged",
      enforcementAction: "warn",
    });
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

describe("emitsAdmissionEvents: Gatekeeper's flag, as its Deployment's args carry it", () => {
  it.each([
    [["--operation=webhook", "--emit-admission-events"], true],
    [["--emit-admission-events=true"], true],
    [["-emit-admission-events"], true],
    [["--emit-admission-events=false"], false],
    [["--emit-admission-events", "--emit-admission-events=false"], false],
    [["--emit-audit-events"], false],
    [["--emit-admission-events-involved-namespace"], false],
    [[], false],
  ])("%j → %s", (args, on) => {
    expect(emitsAdmissionEvents(args)).toBe(on);
  });
});
