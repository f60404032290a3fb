import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { procMount } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(procMount, samples);

describe("proc-mount options", () => {
  it("defaults {} to allowing only the Default proc mount", () => {
    const o = procMount.options.parse({});
    expect(o).toEqual({ allowed: "Default", anyInUserNamespace: false });
    expect(procMount.toParameters(o)).toEqual({ allowed: "Default", anyInUserNamespace: false });
    expect(procMount.describe(o)).toContain("Default");
  });

  it("accepts Unmasked", () => {
    const o = procMount.options.parse({ allowed: "Unmasked" });
    expect(procMount.toParameters(o)).toEqual({ allowed: "Unmasked", anyInUserNamespace: false });
    expect(procMount.describe(o)).toContain("Unmasked");
  });

  it("refuses other proc mount types, including wrong case", () => {
    for (const allowed of ["unmasked", "Masked", "", true]) {
      const r = procMount.options.safeParse({ allowed });
      expect(r.success).toBe(false);
      expect(r.error!.issues.map((i) => i.path)).toEqual([["allowed"]]);
    }
  });

  it("refuses unknown fields", () => {
    const r = procMount.options.safeParse({ allowedProcMountTypes: ["Default"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([[]]);
  });
});
