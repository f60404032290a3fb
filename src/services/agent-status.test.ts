// reportHash: the hash a repeated status report is recognised by (gatehouse_agent_status_check).
// It is JSON of the schema's output, so the order the agent sent the keys in must not matter,
// while every value but the sync time's must.
import { describe, expect, it } from "vitest";
import { AgentStatusReport } from "../protocol/agent.ts";
import { reportHash } from "./agent-status.ts";

const report = {
  agentVersion: "0.1.0",
  kubernetesVersion: "v1.36.3",
  gatekeeper: { installed: true, version: "v3.23.0", webhook: { ready: true, readyEndpoints: 1, service: "gatekeeper-system/gatekeeper-webhook-service" } },
  appliedRevision: 3,
  desiredRevision: 3,
  lastSuccessfulSyncAt: "2030-01-01T00:00:00.000Z",
  error: null,
  objects: [{ apiVersion: "v1", kind: "ConstraintTemplate", name: "a", result: "unchanged" as const }],
  templates: [{ name: "a", created: true, crdEstablished: true, errors: [] }],
};
/** The same object with every object's keys in reverse order, at every level. */
const reversed = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(reversed)
    : v && typeof v === "object"
      ? Object.fromEntries(
          Object.entries(v)
            .reverse()
            .map(([k, x]) => [k, reversed(x)]),
        )
      : v;
const hash = (r: unknown) => reportHash(AgentStatusReport.parse(r));

describe("reportHash", () => {
  it("is the same whatever order the keys were sent in", () => {
    expect(JSON.stringify(reversed(report))).not.toBe(JSON.stringify(report));
    expect(hash(reversed(report))).toBe(hash(report));
  });

  it("ignores the time of the last successful sync, not whether there was one", () => {
    expect(hash({ ...report, lastSuccessfulSyncAt: "2031-06-01T12:00:00.000Z" })).toBe(hash(report));
    expect(hash({ ...report, lastSuccessfulSyncAt: null })).not.toBe(hash(report));
  });

  it("changes with any other value, nested ones included", () => {
    const variants = [
      { ...report, appliedRevision: 2 },
      { ...report, error: "apply failed" },
      { ...report, gatekeeper: { ...report.gatekeeper, webhook: { ...report.gatekeeper.webhook, ready: false } } },
      { ...report, objects: [{ ...report.objects[0]!, result: "applied" as const }] },
      { ...report, templates: [] },
    ];
    const hashes = new Set([hash(report), ...variants.map(hash)]);
    expect(hashes.size).toBe(variants.length + 1);
  });
});
