import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { seccomp } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(seccomp, samples);

describe("seccomp options", () => {
  const parse = (x: unknown) => seccomp.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to RuntimeDefault or any Localhost profile, set explicitly", () => {
    const o = seccomp.options.parse({});
    expect(o).toEqual({ allowed: ["Localhost/*", "RuntimeDefault"], allowUnset: false, checkOverridden: false });
    expect(seccomp.toParameters(o)).toEqual({ allowed: ["Localhost/*", "RuntimeDefault"], allowUnset: false, checkOverridden: false });
    expect(seccomp.describe(o)).toBe("seccomp profiles allowed: Localhost/*, RuntimeDefault; unset not allowed");
  });

  it("sorts profiles so equal settings give equal parameters", () => {
    const a = seccomp.options.parse({ allowed: ["Unconfined", "Localhost/b.json", "RuntimeDefault", "Localhost/a.json"] });
    const b = seccomp.options.parse({ allowed: ["Localhost/a.json", "Localhost/b.json", "RuntimeDefault", "Unconfined"] });
    expect(a).toEqual(b);
    expect(a.allowed).toEqual(["Localhost/a.json", "Localhost/b.json", "RuntimeDefault", "Unconfined"]);
    const params = seccomp.toParameters(a);
    expect(seccomp.parameters.safeParse(params).success).toBe(true);
    expect(JSON.stringify(params)).toBe(JSON.stringify(seccomp.toParameters(b)));
  });

  it("accepts an empty list only together with allowUnset", () => {
    const o = seccomp.options.parse({ allowed: [], allowUnset: true });
    expect(seccomp.describe(o)).toBe("seccomp profiles allowed: none; unset allowed");
    const r = parse({ allowed: [] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([["allowed"]]);
    expect(r.error!.issues[0]!.message).toContain("allowUnset");
  });

  it("rejects malformed profiles at their index", () => {
    expect(paths({ allowed: ["RuntimeDefault", "runtime/default"] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: ["Localhost/"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["Localhost/profiles/*.json"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["Localhost/../etc/profile.json"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["Localhost//abs.json"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["unconfined"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: [""] })).toEqual([["allowed", 0]]);
  });

  it("rejects duplicates and Localhost files already covered by Localhost/*", () => {
    expect(paths({ allowed: ["RuntimeDefault", "RuntimeDefault"] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: ["Localhost/*", "Localhost/a.json"] })).toEqual([["allowed", 1]]);
  });

  it("rejects unknown fields and a non-boolean allowUnset", () => {
    const r = parse({ defaultProfile: "RuntimeDefault" });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["defaultProfile"] });
    expect(paths({ allowUnset: "yes" })).toEqual([["allowUnset"]]);
  });
});
