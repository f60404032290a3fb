import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { hostNamespaces } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(hostNamespaces, samples);

describe("host-namespaces options", () => {
  const parse = (x: unknown) => hostNamespaces.options.safeParse(x);

  it("defaults to refusing both namespaces", () => {
    expect(hostNamespaces.options.parse({})).toEqual({ allowHostPID: false, allowHostIPC: false });
    expect(hostNamespaces.describe(hostNamespaces.options.parse({}))).toBe("hostPID not allowed; hostIPC not allowed");
  });

  it("maps options to parameters one to one", () => {
    const o = hostNamespaces.options.parse({ allowHostIPC: true });
    expect(hostNamespaces.toParameters(o)).toEqual({ allowHostPID: false, allowHostIPC: true });
    expect(hostNamespaces.parameters.safeParse(hostNamespaces.toParameters(o)).success).toBe(true);
    expect(hostNamespaces.describe(o)).toBe("hostPID not allowed; hostIPC allowed");
  });

  it("rejects non-boolean values with the field's path", () => {
    const r = parse({ allowHostPID: "yes", allowHostIPC: 1 });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([["allowHostPID"], ["allowHostIPC"]]);
  });

  it("rejects unknown fields, naming them", () => {
    const r = parse({ allowHostNetwork: true });
    expect(r.success).toBe(false);
    const issue = r.error!.issues[0]!;
    expect(issue.code).toBe("unrecognized_keys");
    expect(issue.path).toEqual([]);
    expect((issue as { keys?: string[] }).keys).toEqual(["allowHostNetwork"]);
  });
});
