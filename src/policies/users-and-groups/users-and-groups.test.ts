import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { usersAndGroups } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(usersAndGroups, samples);

const paths = (x: unknown) => {
  const r = usersAndGroups.options.safeParse(x);
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => i.path.join("."));
};

describe("users-and-groups options", () => {
  it("defaults {} to MustRunAsNonRoot users and RunAsAny groups", () => {
    const o = usersAndGroups.options.parse({});
    expect(o).toEqual({
      runAsUser: { rule: "MustRunAsNonRoot", ranges: [], requireRunAsNonRoot: false, exemptUserNamespaces: false },
      runAsGroup: { rule: "RunAsAny", ranges: [] },
      supplementalGroups: { rule: "RunAsAny", ranges: [] },
      fsGroup: { rule: "RunAsAny", ranges: [] },
    });
    expect(usersAndGroups.describe(o)).toBe("user non-root; group any; supplemental groups any; fsGroup any");
  });

  it("takes the Pod Security Standards switches with MustRunAsNonRoot only", () => {
    const o = usersAndGroups.options.parse({ runAsUser: { requireRunAsNonRoot: true, exemptUserNamespaces: true } });
    expect(o.runAsUser).toEqual({ rule: "MustRunAsNonRoot", ranges: [], requireRunAsNonRoot: true, exemptUserNamespaces: true });
    expect(usersAndGroups.describe(o)).toBe(
      "user non-root (runAsNonRoot: true required), except pods with hostUsers: false; group any; supplemental groups any; fsGroup any",
    );
    expect(paths({ runAsUser: { rule: "RunAsAny", requireRunAsNonRoot: true } })).toEqual(["runAsUser.requireRunAsNonRoot"]);
    expect(paths({ runAsUser: { rule: "MustRunAs", ranges: [{ min: 1, max: 9 }], exemptUserNamespaces: true } })).toEqual(["runAsUser.exemptUserNamespaces"]);
  });

  it("fills each sub-object's defaults", () => {
    const o = usersAndGroups.options.parse({ runAsUser: {}, fsGroup: {} });
    expect(o.runAsUser).toEqual({ rule: "MustRunAsNonRoot", ranges: [], requireRunAsNonRoot: false, exemptUserNamespaces: false });
    expect(o.fsGroup).toEqual({ rule: "RunAsAny", ranges: [] });
  });

  it("sorts ranges by min so equal settings render identically", () => {
    const a = usersAndGroups.options.parse({
      runAsGroup: {
        rule: "MayRunAs",
        ranges: [
          { min: 5000, max: 5999 },
          { min: 1000, max: 1000 },
        ],
      },
    });
    const b = usersAndGroups.options.parse({
      runAsGroup: {
        rule: "MayRunAs",
        ranges: [
          { min: 1000, max: 1000 },
          { min: 5000, max: 5999 },
        ],
      },
    });
    expect(a.runAsGroup.ranges).toEqual([
      { min: 1000, max: 1000 },
      { min: 5000, max: 5999 },
    ]);
    expect(JSON.stringify(usersAndGroups.toParameters(a))).toBe(JSON.stringify(usersAndGroups.toParameters(b)));
    expect(usersAndGroups.describe(a)).toContain("group if set, in 1000, 5000-5999");
  });

  it("requires ranges for MustRunAs and MayRunAs", () => {
    expect(paths({ runAsUser: { rule: "MustRunAs" } })).toEqual(["runAsUser.ranges"]);
    expect(paths({ supplementalGroups: { rule: "MayRunAs", ranges: [] } })).toEqual(["supplementalGroups.ranges"]);
  });

  it("refuses ranges with RunAsAny or MustRunAsNonRoot", () => {
    expect(paths({ runAsUser: { ranges: [{ min: 1, max: 2 }] } })).toEqual(["runAsUser.ranges"]);
    expect(paths({ fsGroup: { rule: "RunAsAny", ranges: [{ min: 1, max: 2 }] } })).toEqual(["fsGroup.ranges"]);
  });

  it("refuses rules that do not belong to the field", () => {
    expect(paths({ runAsUser: { rule: "MayRunAs", ranges: [{ min: 1, max: 2 }] } })).toEqual(["runAsUser.rule"]);
    expect(paths({ runAsGroup: { rule: "MustRunAsNonRoot" } })).toEqual(["runAsGroup.rule"]);
  });

  it("refuses min > max, negative ids and ids beyond int32", () => {
    expect(paths({ fsGroup: { rule: "MustRunAs", ranges: [{ min: 10, max: 5 }] } })).toEqual(["fsGroup.ranges.0.max"]);
    expect(paths({ runAsGroup: { rule: "MustRunAs", ranges: [{ min: -1, max: 5 }] } })).toEqual(["runAsGroup.ranges.0.min"]);
    expect(paths({ runAsUser: { rule: "MustRunAs", ranges: [{ min: 1, max: 2 ** 31 }] } })).toEqual(["runAsUser.ranges.0.max"]);
  });

  it("refuses overlapping ranges at the later entry", () => {
    const ranges = [
      { min: 100, max: 200 },
      { min: 1, max: 5 },
      { min: 150, max: 300 },
    ];
    expect(paths({ supplementalGroups: { rule: "MustRunAs", ranges } })).toEqual(["supplementalGroups.ranges.2"]);
  });

  it("refuses unknown fields at every level", () => {
    expect(paths({ runAsUsers: {} })).toEqual([""]);
    expect(paths({ runAsUser: { rule: "RunAsAny", range: [] } })).toEqual(["runAsUser"]);
    expect(paths({ fsGroup: { rule: "MustRunAs", ranges: [{ min: 1, max: 2, step: 1 }] } })).toEqual(["fsGroup.ranges.0"]);
  });
});
