// Prometheus metrics the agent serves on /metrics (see agent/README.md for what each means).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface AgentMetrics {
  registry: Registry;
  syncDuration: Histogram<"result">;
  lastSuccess: Gauge;
  objectsApplied: Counter<"kind">;
  objectsPruned: Counter<"kind">;
  errors: Counter<"stage">;
  auditViolations: Gauge<"constraint" | "enforcement_action">;
  desiredRevision: Gauge;
  appliedRevision: Gauge;
}

export function createMetrics(): AgentMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gatehouse_agent_" });
  const registers = [registry];
  return {
    registry,
    syncDuration: new Histogram({
      name: "gatehouse_agent_sync_duration_seconds",
      help: "Duration of one reconcile loop (fetch, apply, prune, report), by result.",
      labelNames: ["result"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    lastSuccess: new Gauge({
      name: "gatehouse_agent_last_success_timestamp_seconds",
      help: "Unix time of the last loop that left the cluster at the desired revision.",
      registers,
    }),
    objectsApplied: new Counter({
      name: "gatehouse_agent_objects_applied_total",
      help: "Objects created or repaired with server-side apply, by kind.",
      labelNames: ["kind"],
      registers,
    }),
    objectsPruned: new Counter({
      name: "gatehouse_agent_objects_pruned_total",
      help: "Managed objects deleted because they are no longer desired, by kind.",
      labelNames: ["kind"],
      registers,
    }),
    errors: new Counter({
      name: "gatehouse_agent_errors_total",
      help: "Failures by stage: fetch (the API), kube (reading the cluster), apply, template (not ready in time), prune, report.",
      labelNames: ["stage"],
      registers,
    }),
    auditViolations: new Gauge({
      name: "gatehouse_agent_audit_violations",
      help: "Gatekeeper's latest audit: totalViolations per managed constraint.",
      labelNames: ["constraint", "enforcement_action"],
      registers,
    }),
    desiredRevision: new Gauge({ name: "gatehouse_agent_desired_revision", help: "The settings revision last fetched from the API.", registers }),
    appliedRevision: new Gauge({ name: "gatehouse_agent_applied_revision", help: "The settings revision completely applied to the cluster.", registers }),
  };
}
