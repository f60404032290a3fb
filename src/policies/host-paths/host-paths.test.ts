import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { hostPaths } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(hostPaths, samples);

describe("host-paths options", () => {
  const parse = (x: unknown) => hostPaths.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };
  const one = (pathPrefix: unknown) => paths({ allowed: [{ pathPrefix: "/ok" }, { pathPrefix }] });

  it("defaults to no hostPath volumes", () => {
    const o = hostPaths.options.parse({});
    expect(o).toEqual({ allowed: [] });
    expect(hostPaths.toParameters(o)).toEqual({ allowed: [] });
    expect(hostPaths.describe(o)).toBe("no hostPath volumes");
  });

  it("fills readOnly with false, sorts by prefix and maps to parameters", () => {
    const o = hostPaths.options.parse({
      allowed: [{ pathPrefix: "/var/log", readOnly: true }, { pathPrefix: "/data" }, { pathPrefix: "/" }],
    });
    expect(o.allowed).toEqual([
      { pathPrefix: "/", readOnly: false },
      { pathPrefix: "/data", readOnly: false },
      { pathPrefix: "/var/log", readOnly: true },
    ]);
    expect(hostPaths.toParameters(o)).toEqual({ allowed: o.allowed });
    expect(hostPaths.parameters.safeParse(hostPaths.toParameters(o)).success).toBe(true);
    expect(hostPaths.describe(o)).toBe("hostPath under /, /data, /var/log (read-only)");
  });

  it("renders the same parameters whatever the input order", () => {
    const a = hostPaths.options.parse({ allowed: [{ pathPrefix: "/b" }, { pathPrefix: "/a", readOnly: true }] });
    const b = hostPaths.options.parse({ allowed: [{ pathPrefix: "/a", readOnly: true }, { pathPrefix: "/b" }] });
    expect(JSON.stringify(hostPaths.toParameters(a))).toBe(JSON.stringify(hostPaths.toParameters(b)));
  });

  it("rejects malformed prefixes at the entry's pathPrefix", () => {
    const at = [["allowed", 1, "pathPrefix"]];
    for (const bad of ["", "var/log", "./x", "/var/log/", "/var//log", "/var/../etc", "/var/log/..", "/var/./log", "/var/*", "/my dir"]) {
      expect(one(bad), JSON.stringify(bad)).toEqual(at);
    }
    expect(one(42)).toEqual(at);
  });

  it("rejects duplicate prefixes at the later entry", () => {
    expect(paths({ allowed: [{ pathPrefix: "/a" }, { pathPrefix: "/b" }, { pathPrefix: "/a", readOnly: true }] })).toEqual([["allowed", 2, "pathPrefix"]]);
  });

  it("rejects a non-boolean readOnly and unknown fields", () => {
    expect(paths({ allowed: [{ pathPrefix: "/a", readOnly: "yes" }] })).toEqual([["allowed", 0, "readOnly"]]);
    expect(paths({ allowed: [{ pathPrefix: "/a", writable: true }] })).toEqual([["allowed", 0]]);
    expect(paths({ allowed: [{ readOnly: true }] })).toEqual([["allowed", 0, "pathPrefix"]]);
    const r = parse({ allowedPaths: [] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.code).toBe("unrecognized_keys");
    expect(r.error!.issues[0]!.path).toEqual([]);
  });
});
