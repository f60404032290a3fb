// The synthetic audit report both audit benches ingest (audit.bench.ts through the services,
// ingest-wait.bench.ts through the agent route): `constraints` constraints of `perConstraint`
// privileged-container violations each, over 50 namespaces. Churn between two reports: the objects
// whose index is a multiple of `every` carry the report's `generation` in their name, so 1/every
// of the violations resolve and as many open (every 0: the same objects as any other report).
import type { AuditReport } from "../../src/protocol/agent.ts";

const KINDS = {
  Pod: { group: "", prefix: "pod" },
  Deployment: { group: "apps", prefix: "deploy" },
} as const;

export interface ReportShape {
  constraints: number;
  perConstraint: number;
  kind: keyof typeof KINDS;
}

export function syntheticReport(shape: ReportShape, generation: number, every: number, collectedAt: Date): AuditReport {
  const { group, prefix } = KINDS[shape.kind];
  return {
    collectedAt: collectedAt.toISOString(),
    constraints: Array.from({ length: shape.constraints }, (_, c) => ({
      kind: `GatehouseControl${c}`,
      name: `control-${c}`,
      control: `control-${c}`,
      enforcementAction: "deny",
      auditTimestamp: collectedAt.toISOString(),
      totalViolations: shape.perConstraint,
      truncated: false,
      violations: Array.from({ length: shape.perConstraint }, (_, i) => {
        const name = every && i % every === 0 ? `${prefix}-${c}-${i}-g${generation}` : `${prefix}-${c}-${i}`;
        return {
          group,
          version: "v1",
          kind: shape.kind,
          namespace: `team-${i % 50}`,
          name,
          enforcementAction: "deny",
          message: `pod team-${i % 50}/${name}: container "app" (containers[0], image registry.example.com/team/app:1.4.2): securityContext.privileged is true; privileged containers are not allowed.`,
        };
      }),
    })),
  };
}
