import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { appArmor } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(appArmor, samples);

describe("apparmor options", () => {
  const parse = (x: unknown) => appArmor.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to runtime/default and any localhost profile", () => {
    const o = appArmor.options.parse({});
    expect(o).toEqual({ allowed: ["localhost/*", "runtime/default"], checkOverridden: false });
    expect(appArmor.toParameters(o)).toEqual({ allowed: ["localhost/*", "runtime/default"], checkOverridden: false });
    expect(appArmor.describe(o)).toBe("AppArmor profiles allowed: localhost/*, runtime/default (unset runs as runtime/default)");
  });

  it("sorts profiles so equal settings give equal parameters", () => {
    const a = appArmor.options.parse({ allowed: ["unconfined", "localhost/b", "runtime/default", "localhost/a"] });
    const b = appArmor.options.parse({ allowed: ["localhost/a", "localhost/b", "runtime/default", "unconfined"] });
    expect(a).toEqual(b);
    expect(a.allowed).toEqual(["localhost/a", "localhost/b", "runtime/default", "unconfined"]);
    const params = appArmor.toParameters(a);
    expect(appArmor.parameters.safeParse(params).success).toBe(true);
    expect(JSON.stringify(params)).toBe(JSON.stringify(appArmor.toParameters(b)));
  });

  it("rejects malformed profiles at their index", () => {
    expect(paths({ allowed: ["runtime/default", "RuntimeDefault"] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: ["localhost/"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["localhost/my profile"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["localhost/k8s-*"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: ["docker/default"] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: [""] })).toEqual([["allowed", 0]]);
  });

  it("rejects duplicates and localhost profiles already covered by localhost/*", () => {
    expect(paths({ allowed: ["unconfined", "unconfined"] })).toEqual([["allowed", 1]]);
    expect(paths({ allowed: ["localhost/a", "localhost/*"] })).toEqual([["allowed", 0]]);
  });

  it("rejects an empty list: it would refuse every pod", () => {
    const r = parse({ allowed: [] });
    expect(r.success).toBe(false);
    expect(r.error!.issues.map((i) => i.path)).toEqual([["allowed"]]);
    expect(r.error!.issues[0]!.message).toContain("refuses every pod");
  });

  it("rejects unknown fields and non-list values", () => {
    const r = parse({ allowedProfileNames: ["runtime/default"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]).toMatchObject({ code: "unrecognized_keys", path: [], keys: ["allowedProfileNames"] });
    expect(paths({ allowed: "runtime/default" })).toEqual([["allowed"]]);
  });
});
