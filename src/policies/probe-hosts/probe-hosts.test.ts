import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { probeHosts } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(probeHosts, samples);

describe("probe-hosts options", () => {
  const parse = (x: unknown) => probeHosts.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to no extra hosts: host must be unset", () => {
    const o = probeHosts.options.parse({});
    expect(o).toEqual({ allowedHosts: [] });
    expect(probeHosts.toParameters(o)).toEqual({ allowedHosts: [] });
    expect(probeHosts.describe(o)).toBe("probe and lifecycle hook hosts must be unset");
  });

  it("lower-cases and sorts hosts so equal settings give equal parameters", () => {
    const a = probeHosts.options.parse({ allowedHosts: ["Metrics.Example.com", "10.0.0.1", "::1"] });
    const b = probeHosts.options.parse({ allowedHosts: ["::1", "metrics.example.com", "10.0.0.1"] });
    expect(a.allowedHosts).toEqual(["10.0.0.1", "::1", "metrics.example.com"]);
    expect(JSON.stringify(probeHosts.toParameters(a))).toBe(JSON.stringify(probeHosts.toParameters(b)));
    expect(probeHosts.parameters.safeParse(probeHosts.toParameters(a)).success).toBe(true);
    expect(probeHosts.describe(a)).toBe("probe and lifecycle hook hosts must be unset or one of 10.0.0.1, ::1, metrics.example.com");
  });

  it("rejects empty strings", () => {
    expect(paths({ allowedHosts: ["ok.example.com", ""] })).toEqual([["allowedHosts", 1]]);
  });

  it("rejects spaces and wildcards", () => {
    expect(paths({ allowedHosts: [" example.com"] })).toEqual([["allowedHosts", 0]]);
    expect(paths({ allowedHosts: ["a b"] })).toEqual([["allowedHosts", 0]]);
    expect(paths({ allowedHosts: ["x", "*.example.com"] })).toEqual([["allowedHosts", 1]]);
  });

  it("rejects duplicates, including ones that differ only in case", () => {
    expect(paths({ allowedHosts: ["a.example.com", "A.example.com"] })).toEqual([["allowedHosts", 1]]);
  });

  it("rejects non-strings and unknown fields", () => {
    expect(paths({ allowedHosts: [42] })).toEqual([["allowedHosts", 0]]);
    expect(paths({ allowedHosts: "a.example.com" })).toEqual([["allowedHosts"]]);
    const r = parse({ hosts: [] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["hosts"] });
  });
});
