import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { capabilities } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(capabilities, samples);

describe("capabilities options", () => {
  const parse = (x: unknown) => capabilities.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to no additions and no required drops", () => {
    const o = capabilities.options.parse({});
    expect(o).toEqual({ allowedAdd: [], requiredDrop: [] });
    expect(capabilities.toParameters(o)).toEqual({ allowedAdd: [], requiredDrop: [] });
    // The settings schema may hand over `{}` unparsed.
    expect(capabilities.describe(o)).toBe("capabilities that may be added: none; must be dropped: nothing");
  });

  it("normalises, dedups and sorts capability names", () => {
    const a = capabilities.options.parse({ allowedAdd: ["net_bind_service", "CAP_CHOWN", "CHOWN"] });
    const b = capabilities.options.parse({ allowedAdd: ["CHOWN", "NET_BIND_SERVICE"] });
    expect(a).toEqual(b);
    expect(a.allowedAdd).toEqual(["CHOWN", "NET_BIND_SERVICE"]);
    const params = capabilities.toParameters(a);
    expect(capabilities.parameters.safeParse(params).success).toBe(true);
    expect(JSON.stringify(params)).toBe(JSON.stringify(capabilities.toParameters(b)));
    expect(capabilities.describe(a)).toBe("capabilities that may be added: CHOWN, NET_BIND_SERVICE; must be dropped: nothing");
  });

  it("collapses a list containing ALL to [ALL]", () => {
    const o = capabilities.options.parse({ allowedAdd: ["SYS_ADMIN", "all"], requiredDrop: ["NET_RAW", "CAP_ALL"] });
    expect(o).toEqual({ allowedAdd: ["ALL"], requiredDrop: ["ALL"] });
    expect(capabilities.describe(o)).toBe("capabilities that may be added: any; must be dropped: ALL");
  });

  it("allows drop ALL together with additions (the restricted pattern)", () => {
    expect(parse({ allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: ["ALL"] }).success).toBe(true);
    expect(parse({ allowedAdd: ["ALL"], requiredDrop: ["NET_RAW"] }).success).toBe(true);
  });

  it("rejects malformed and empty capability names at their index", () => {
    expect(paths({ allowedAdd: ["NET_ADMIN", "NET ADMIN"] })).toEqual([["allowedAdd", 1]]);
    expect(paths({ requiredDrop: [""] })).toEqual([["requiredDrop", 0]]);
    expect(paths({ requiredDrop: ["  "] })).toEqual([["requiredDrop", 0]]);
    expect(paths({ allowedAdd: ["CAP_"] })).toEqual([["allowedAdd", 0]]);
    expect(paths({ allowedAdd: [7] })).toEqual([["allowedAdd", 0]]);
    expect(paths({ allowedAdd: "NET_ADMIN" })).toEqual([["allowedAdd"]]);
  });

  it("rejects a capability both allowed to be added and required to be dropped", () => {
    const r = parse({ allowedAdd: ["cap_net_raw"], requiredDrop: ["NET_RAW"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([["requiredDrop"]]);
    expect(r.error!.issues[0]!.message).toContain("NET_RAW");
  });

  it("rejects unknown fields", () => {
    const r = parse({ allowedCapabilities: ["NET_ADMIN"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["allowedCapabilities"] });
  });
});
