// Pod Security Standards versions a Gatehouse environment can pin its presets to, as Pod
// Security Admission's `enforce-version` names them. `latest` is the newest the presets know:
// the Kubernetes release of the PSA library the differential suite (test/pss) compares with.
import { z } from "zod";

export const PSS_VERSIONS = ["v1.31", "v1.32", "v1.33", "v1.34", "v1.35", "v1.36"] as const;
export type PinnedPssVersion = (typeof PSS_VERSIONS)[number];

/** What `latest` means today (k8s.io/pod-security-admission v0.36). */
export const LATEST_PSS_VERSION: PinnedPssVersion = "v1.36";

export const PssVersion = z.enum([...PSS_VERSIONS, "latest"], {
  message: `must be a Pod Security Standards version: ${PSS_VERSIONS.join(", ")} or latest`,
});
export type PssVersion = z.infer<typeof PssVersion>;

/** The minor number of a version (`latest` → the newest known), for "from v1.N on" rules. */
export function pssMinor(version: PssVersion): number {
  return Number((version === "latest" ? LATEST_PSS_VERSION : version).slice(3));
}
