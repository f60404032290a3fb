import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { flexVolumeDrivers } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(flexVolumeDrivers, samples);

describe("flexvolume-drivers options", () => {
  const parse = (x: unknown) => flexVolumeDrivers.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to no flexVolume drivers", () => {
    const o = flexVolumeDrivers.options.parse({});
    expect(o).toEqual({ allowed: [] });
    expect(flexVolumeDrivers.toParameters(o)).toEqual({ allowed: [] });
    expect(flexVolumeDrivers.describe(o)).toBe("no flexVolume drivers");
  });

  it("sorts drivers and maps them to parameters", () => {
    const o = flexVolumeDrivers.options.parse({ allowed: ["example.com/nfs", "acme/lvm"] });
    expect(o.allowed).toEqual(["acme/lvm", "example.com/nfs"]);
    expect(flexVolumeDrivers.toParameters(o)).toEqual({ allowed: ["acme/lvm", "example.com/nfs"] });
    expect(flexVolumeDrivers.parameters.safeParse(flexVolumeDrivers.toParameters(o)).success).toBe(true);
    expect(flexVolumeDrivers.describe(o)).toBe("flexVolume drivers acme/lvm, example.com/nfs");
  });

  it("rejects duplicates at the repeated entry", () => {
    expect(paths({ allowed: ["a/b", "c/d", "a/b"] })).toEqual([["allowed", 2]]);
  });

  it("rejects empty names, spaces and globs at the entry", () => {
    expect(paths({ allowed: ["ok/driver", ""] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: ["example.com/*"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["ok", "bad driver"] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: [7] })).toEqual([["allowed", 0]]);
  });

  it("rejects unknown fields", () => {
    const r = parse({ drivers: ["a/b"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.code).toBe("unrecognized_keys");
    expect((r.error!.issues[0] as { keys?: string[] }).keys).toEqual(["drivers"]);
  });
});
