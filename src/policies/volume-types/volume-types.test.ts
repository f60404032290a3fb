import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { RESTRICTED_VOLUME_TYPES, volumeTypes } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(volumeTypes, samples);

describe("volume-types options", () => {
  const parse = (x: unknown) => volumeTypes.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to the Pod Security Standards restricted list", () => {
    const o = volumeTypes.options.parse({});
    expect(o.allowed).toEqual([
      "configMap",
      "csi",
      "downwardAPI",
      "emptyDir",
      "ephemeral",
      "persistentVolumeClaim",
      "projected",
      "secret",
    ]);
    expect(o.allowed).toEqual([...RESTRICTED_VOLUME_TYPES]);
    expect(volumeTypes.toParameters(o)).toEqual({ allowed: o.allowed });
    expect(volumeTypes.parameters.safeParse(volumeTypes.toParameters(o)).success).toBe(true);
    expect(volumeTypes.describe(o)).toBe(`volume types ${o.allowed.join(", ")}`);
  });

  it("sorts the list so equal settings render identically", () => {
    const a = volumeTypes.options.parse({ allowed: ["secret", "hostPath", "configMap"] });
    const b = volumeTypes.options.parse({ allowed: ["configMap", "secret", "hostPath"] });
    expect(a.allowed).toEqual(["configMap", "hostPath", "secret"]);
    expect(volumeTypes.toParameters(a)).toEqual(volumeTypes.toParameters(b));
  });

  it("accepts * alone and an empty list, and describes both", () => {
    expect(volumeTypes.describe(volumeTypes.options.parse({ allowed: ["*"] }))).toBe("any volume type");
    const none = volumeTypes.options.parse({ allowed: [] });
    expect(none.allowed).toEqual([]);
    expect(volumeTypes.describe(none)).toBe("no volumes");
  });

  it("rejects * beside other types, at the * entry", () => {
    expect(paths({ allowed: ["secret", "*"] })).toEqual([["allowed", 1]]);
  });

  it("rejects duplicates, at the repeated entry", () => {
    expect(paths({ allowed: ["secret", "emptyDir", "secret"] })).toEqual([["allowed", 2]]);
  });

  it("rejects unknown volume types and wrong spelling", () => {
    expect(paths({ allowed: ["configMap", "hostpath", "tmpfs"] })).toEqual([
      ["allowed", 1],
      ["allowed", 2],
    ]);
  });

  it("rejects a non-list and unknown fields", () => {
    expect(paths({ allowed: "secret" })).toEqual([["allowed"]]);
    const r = parse({ allowed: [], forbidden: ["hostPath"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.code).toBe("unrecognized_keys");
    expect((r.error!.issues[0] as { keys?: string[] }).keys).toEqual(["forbidden"]);
  });
});
