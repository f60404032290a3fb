import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { privilegeEscalation } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(privilegeEscalation, samples);

describe("privilege-escalation options", () => {
  it("has no options: {} parses and renders no parameters", () => {
    const o = privilegeEscalation.options.parse({});
    expect(o).toEqual({});
    expect(privilegeEscalation.toParameters(o)).toEqual({});
    expect(privilegeEscalation.describe(o)).toContain("allowPrivilegeEscalation: false");
  });

  it("refuses unknown fields", () => {
    const r = privilegeEscalation.options.safeParse({ allow: true });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([[]]);
  });
});
