import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { readOnlyRootFilesystem } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(readOnlyRootFilesystem, samples);

describe("read-only-root-filesystem options", () => {
  it("has no options: {} parses to {} and renders no parameters", () => {
    const o = readOnlyRootFilesystem.options.parse({});
    expect(o).toEqual({});
    expect(readOnlyRootFilesystem.toParameters(o)).toEqual({});
    expect(readOnlyRootFilesystem.describe(o)).toBe("every container must set readOnlyRootFilesystem: true");
  });

  it("rejects any option, naming it", () => {
    const r = readOnlyRootFilesystem.options.safeParse({ allowWritable: true });
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.code).toBe("unrecognized_keys");
    expect(issue.path).toEqual([]);
    expect((issue as { keys?: string[] }).keys).toEqual(["allowWritable"]);
  });
});
