import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { hostNetworkPorts } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(hostNetworkPorts, samples);

describe("host-network-ports options", () => {
  const parse = (x: unknown) => hostNetworkPorts.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to no host network and no host ports", () => {
    const o = hostNetworkPorts.options.parse({});
    expect(o).toEqual({ allowHostNetwork: false, hostPorts: [] });
    expect(hostNetworkPorts.toParameters(o)).toEqual({ allowHostNetwork: false, hostPorts: [] });
    expect(hostNetworkPorts.describe(o)).toBe("hostNetwork not allowed; no host ports");
  });

  it("sorts ranges so equal settings give equal parameters", () => {
    const a = hostNetworkPorts.options.parse({
      hostPorts: [
        { min: 9090, max: 9090 },
        { min: 80, max: 443 },
      ],
    });
    const b = hostNetworkPorts.options.parse({
      hostPorts: [
        { min: 80, max: 443 },
        { min: 9090, max: 9090 },
      ],
    });
    expect(a).toEqual(b);
    expect(a.hostPorts).toEqual([
      { min: 80, max: 443 },
      { min: 9090, max: 9090 },
    ]);
    const params = hostNetworkPorts.toParameters(a);
    expect(hostNetworkPorts.parameters.safeParse(params).success).toBe(true);
    expect(JSON.stringify(params)).toBe(JSON.stringify(hostNetworkPorts.toParameters(b)));
    expect(hostNetworkPorts.describe({ ...a, allowHostNetwork: true })).toBe("hostNetwork allowed; host ports 80-443, 9090");
  });

  it("accepts the full port range and adjacent ranges", () => {
    expect(parse({ hostPorts: [{ min: 1, max: 65535 }] }).success).toBe(true);
    expect(
      parse({
        hostPorts: [
          { min: 1, max: 10 },
          { min: 11, max: 20 },
        ],
      }).success,
    ).toBe(true);
  });

  it("rejects ports outside 1..65535 and non-integers", () => {
    expect(paths({ hostPorts: [{ min: 0, max: 10 }] })).toEqual([["hostPorts", 0, "min"]]);
    expect(paths({ hostPorts: [{ min: 1, max: 65536 }] })).toEqual([["hostPorts", 0, "max"]]);
    expect(paths({ hostPorts: [{ min: 80.5, max: 90 }] })).toEqual([["hostPorts", 0, "min"]]);
    expect(paths({ hostPorts: [{ min: "80", max: 90 }] })).toEqual([["hostPorts", 0, "min"]]);
  });

  it("rejects min > max on the range's max", () => {
    expect(
      paths({
        hostPorts: [
          { min: 1, max: 2 },
          { min: 9000, max: 8000 },
        ],
      }),
    ).toEqual([["hostPorts", 1, "max"]]);
  });

  it("rejects overlapping and duplicate ranges on the later entry", () => {
    expect(
      paths({
        hostPorts: [
          { min: 8000, max: 8080 },
          { min: 8080, max: 8090 },
        ],
      }),
    ).toEqual([["hostPorts", 1]]);
    expect(
      paths({
        hostPorts: [
          { min: 9000, max: 9100 },
          { min: 8000, max: 9000 },
        ],
      }),
    ).toEqual([["hostPorts", 0]]);
    expect(
      paths({
        hostPorts: [
          { min: 53, max: 53 },
          { min: 53, max: 53 },
        ],
      }),
    ).toEqual([["hostPorts", 1]]);
  });

  it("rejects unknown fields in the options and in a range", () => {
    const top = parse({ allowHostPID: true });
    expect(top.success).toBe(false);
    expect(top.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["allowHostPID"] });
    const inner = parse({ hostPorts: [{ min: 1, max: 2, protocol: "TCP" }] });
    expect(inner.success).toBe(false);
    expect(inner.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: ["hostPorts", 0] });
  });

  it("rejects a non-boolean allowHostNetwork", () => {
    expect(paths({ allowHostNetwork: "true" })).toEqual([["allowHostNetwork"]]);
  });
});
