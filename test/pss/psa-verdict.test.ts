// The reference the differential suite trusts: psa-verdict (the API server's PSA library as a
// CLI) must give each of the library's own fixtures the verdict its folder names, at the
// folder's version. If this fails, the CLI (its decoding or its use of the library) is wrong,
// not the presets.
import { describe, expect, it } from "vitest";
import { psaFixtures, psaVerdicts } from "../harness/psa.ts";

describe("psa-verdict", () => {
  it("agrees with every fixture of k8s.io/pod-security-admission at its own level and version", () => {
    const fixtures = psaFixtures();
    const versions = [...new Set(fixtures.map((f) => f.version))];
    expect(versions.length).toBeGreaterThan(30); // v1.0 … v1.35: every folder was read
    const verdicts = psaVerdicts(
      fixtures.map((f) => f.pod),
      versions,
    );
    const wrong = fixtures.filter((f, i) => verdicts[i]![f.level][f.version]!.allowed !== (f.expect === "pass"));
    expect(wrong.map((f) => f.file)).toEqual([]);
    expect(fixtures.filter((f) => f.expect === "fail").length).toBeGreaterThan(1000);
  });

  it("reads workloads' pod templates as PSA does, and answers per version", () => {
    const spec = {
      hostUsers: false,
      containers: [
        {
          name: "app",
          image: "registry.k8s.io/pause",
          securityContext: {
            runAsUser: 0,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
        },
      ],
    };
    const [pod, cron] = psaVerdicts(
      [
        { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec },
        {
          apiVersion: "batch/v1",
          kind: "CronJob",
          metadata: { name: "c" },
          spec: { schedule: "* * * * *", jobTemplate: { spec: { template: { spec } } } },
        },
      ],
      ["v1.34", "v1.35"],
    );
    // User namespaces relax runAsNonRoot / runAsUser from v1.35 on.
    for (const v of [pod!, cron!]) {
      expect(v.restricted["v1.34"]!.allowed).toBe(false);
      expect(v.restricted["v1.34"]!.reasons.join("; ")).toContain("runAsUser=0");
      expect(v.restricted["v1.35"]!.allowed).toBe(true);
    }
  });
});
