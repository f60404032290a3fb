import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { seLinux } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(seLinux, samples);

describe("selinux options", () => {
  const parse = (x: unknown) => seLinux.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to an empty list: no field may be set", () => {
    const o = seLinux.options.parse({});
    expect(o).toEqual({ allowed: [] });
    expect(seLinux.toParameters(o)).toEqual({ allowed: [] });
    expect(seLinux.describe(o)).toBe("seLinuxOptions may not set any field");
  });

  it("puts entries and their keys in canonical order", () => {
    const a = seLinux.options.parse({ allowed: [{ type: "container_t", level: "*" }, { level: "*" }] });
    const b = seLinux.options.parse({ allowed: [{ level: "*" }, { level: "*", type: "container_t" }] });
    expect(a).toEqual(b);
    const params = seLinux.toParameters(a);
    expect(JSON.stringify(params)).toBe('{"allowed":[{"level":"*","type":"container_t"},{"level":"*"}]}');
    expect(JSON.stringify(params)).toBe(JSON.stringify(seLinux.toParameters(b)));
    expect(seLinux.parameters.safeParse(params).success).toBe(true);
    expect(seLinux.describe(a)).toBe("seLinuxOptions unset, or one of: {type: container_t, level: *}, {level: *}");
  });

  it("keeps every field of an exact entry", () => {
    const entry = { user: "system_u", role: "system_r", type: "container_t", level: "s0:c1,c2" };
    const o = seLinux.options.parse({ allowed: [entry] });
    expect(o.allowed).toEqual([entry]);
    expect(Object.keys(o.allowed[0]!)).toEqual(["level", "role", "type", "user"]);
  });

  it("rejects empty strings, spaces and partial globs at the field", () => {
    expect(paths({ allowed: [{ type: "" }] })).toEqual([["allowed", 0, "type"]]);
    expect(paths({ allowed: [{ level: "*" }, { user: "system u" }] })).toEqual([["allowed", 1, "user"]]);
    expect(paths({ allowed: [{ type: "container_*" }] })).toEqual([["allowed", 0, "type"]]);
    expect(paths({ allowed: [{ role: 1 }] })).toEqual([["allowed", 0, "role"]]);
  });

  it("rejects an entry that sets no field", () => {
    const r = parse({ allowed: [{ level: "*" }, {}] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([["allowed", 1]]);
    expect(r.error!.issues[0]!.message).toContain("always allowed");
  });

  it("rejects duplicate entries, whatever their key order", () => {
    expect(paths({ allowed: [{ type: "container_t", level: "*" }, { level: "*" }, { level: "*", type: "container_t" }] })).toEqual([["allowed", 2]]);
  });

  it("rejects unknown fields at the top and in an entry", () => {
    const top = parse({ rule: "MustRunAs" });
    expect(top.success).toBe(false);
    expect(top.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["rule"] });
    const inner = parse({ allowed: [{ type: "container_t", seLinuxType: "x" }] });
    expect(inner.success).toBe(false);
    expect(inner.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: ["allowed", 0] });
  });
});
