// The severity table covers exactly the catalogue, and puts what hands over the node before hardening.
import { describe, expect, it } from "vitest";
import { catalogue } from "./catalogue.ts";
import { CONTROL_SEVERITY, SEVERITIES, SEVERITY_BY_CONTROL_ID, severityRank } from "./severity.ts";

describe("control severity", () => {
  it("has one level for every control of the catalogue, and no other", () => {
    expect(Object.keys(CONTROL_SEVERITY).sort()).toEqual(catalogue.map((c) => c.slug).sort());
    for (const s of Object.values(CONTROL_SEVERITY)) expect(SEVERITIES).toContain(s);
    expect(SEVERITY_BY_CONTROL_ID.get("privilegedContainers")).toBe("critical");
  });

  it("ranks privileged, host namespaces and hostPath before a missing seccomp profile, and no control last", () => {
    const rank = (slug: string) => severityRank(CONTROL_SEVERITY[slug]);
    for (const worse of ["privileged-containers", "host-namespaces", "host-paths"]) expect(rank(worse)).toBeLessThan(rank("seccomp"));
    expect(rank("capabilities")).toBeLessThan(rank("seccomp"));
    expect(severityRank(null)).toBe(SEVERITIES.length);
    expect([...SEVERITIES].sort((a, b) => severityRank(a) - severityRank(b))).toEqual(["critical", "high", "medium"]);
  });
});
