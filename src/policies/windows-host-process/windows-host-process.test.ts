import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { windowsHostProcess } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(windowsHostProcess, samples);

describe("windows-host-process options", () => {
  it("has no options: {} parses to {} and renders no parameters", () => {
    const o = windowsHostProcess.options.parse({});
    expect(o).toEqual({});
    expect(windowsHostProcess.toParameters(o)).toEqual({});
    expect(windowsHostProcess.describe(o)).toBe("no pod or container may run as a Windows HostProcess");
  });

  it("rejects any option, naming it (there is no switch to allow HostProcess)", () => {
    const r = windowsHostProcess.options.safeParse({ allowHostProcess: true });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["allowHostProcess"] });
  });
});
