// Samples: pods (and workloads) with the settings they are checked against and the exact
// outcome gator must report. They document each option and prove it with the real engine.
import type { z } from "zod";
import type { Exemptions } from "./common/knobs.ts";

export type Json = Record<string, unknown>;

/** One expected violation: which container (omit for pod-level fields) and which field. */
export interface ExpectedViolation {
  container?: string;
  field: string;
}

export interface Sample {
  /** Unique within the control; used as the object's name (DNS-1123). */
  name: string;
  description: string;
  /** Control options as a user would write them (defaults fill the rest). */
  options?: unknown;
  exemptions?: z.input<typeof Exemptions>;
  object: Json;
  /** `[]` = admitted; otherwise exactly these violations. */
  expect: ExpectedViolation[];
}

export const IMAGE = "registry.example.com/team/app:1.4.2";

export function container(name: string, extra: Json = {}): Json {
  return { name, image: IMAGE, ...extra };
}

/** A pod; `spec` is merged over a single plain container named `app`. */
export function pod(spec: Json = {}, metadata: Json = {}): Json {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "sample", namespace: "team-a", ...metadata },
    spec: { containers: [container("app")], ...spec },
  };
}

const workloadShapes: Record<string, { apiVersion: string; wrap: (template: Json) => Json }> = {
  Deployment: { apiVersion: "apps/v1", wrap: (t) => ({ selector: { matchLabels: { app: "s" } }, template: t }) },
  StatefulSet: {
    apiVersion: "apps/v1",
    wrap: (t) => ({ serviceName: "s", selector: { matchLabels: { app: "s" } }, template: t }),
  },
  DaemonSet: { apiVersion: "apps/v1", wrap: (t) => ({ selector: { matchLabels: { app: "s" } }, template: t }) },
  ReplicaSet: { apiVersion: "apps/v1", wrap: (t) => ({ selector: { matchLabels: { app: "s" } }, template: t }) },
  Job: { apiVersion: "batch/v1", wrap: (t) => ({ template: t }) },
  CronJob: { apiVersion: "batch/v1", wrap: (t) => ({ schedule: "*/5 * * * *", jobTemplate: { spec: { template: t } } }) },
};
export type WorkloadKind = keyof typeof workloadShapes;
/** The same pod spec inside a workload's pod template. */
export function workload(kind: WorkloadKind, spec: Json = {}): Json {
  const shape = workloadShapes[kind]!;
  const restart = kind === "Job" || kind === "CronJob" ? { restartPolicy: "Never" } : {};
  const template = { metadata: { labels: { app: "s" } }, spec: { containers: [container("app")], ...restart, ...spec } };
  return {
    apiVersion: shape.apiVersion,
    kind,
    metadata: { name: "sample", namespace: "team-a" },
    spec: shape.wrap(template),
  };
}
