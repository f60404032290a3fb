import { describe, expect, it } from "vitest";
import { gatorTest } from "../../../test/harness/gator.ts";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { controlSettingsSchema } from "../control-settings.ts";
import { renderConstraint, renderTemplate } from "../render.ts";
import { RESTRICTED_VOLUME_TYPES, volumeTypes } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(volumeTypes, samples);

describe("volume-types messages, evaluated by gator", () => {
  /** What a denied user reads (without the exemption hint) and the finding's field and value. */
  const denials = (names: string[]) => {
    const chosen = samples.filter((s) => names.includes(s.name));
    const settings = controlSettingsSchema(volumeTypes).parse({ options: chosen[0]!.options });
    const policy = [
      renderTemplate(volumeTypes),
      renderConstraint(volumeTypes, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, new Date("2026-06-01T00:00:00Z")),
    ];
    const objects = chosen.map((s) => ({ ...s.object, metadata: { ...(s.object.metadata as object), name: s.name } }));
    return gatorTest(policy, objects)
      .map((r) => ({ text: r.msg.replace(/ To allow it, exempt .*$/, ""), details: r.metadata?.details }))
      .sort((a, b) => a.text.localeCompare(b.text));
  };
  const restricted = `allowed volume types: ${RESTRICTED_VOLUME_TYPES.join(", ")}.`;

  it("names the volume source as the field, its settings as the value, and the volume's name and type in the reason", () => {
    expect(denials(["host-path-by-default", "network-and-git-volumes"])).toEqual([
      {
        text: `pod team-a/host-path-by-default: spec.volumes[1].hostPath is {"path":"/var/log"}; volume "logs" is of type hostPath; ${restricted}`,
        details: { field: "spec.volumes[1].hostPath", value: { path: "/var/log" } },
      },
      {
        text: `pod team-a/network-and-git-volumes: spec.volumes[0].nfs is {"path":"/exports","server":"nfs.example.com"}; volume "share" is of type nfs; ${restricted}`,
        details: { field: "spec.volumes[0].nfs", value: { server: "nfs.example.com", path: "/exports" } },
      },
      {
        text: `pod team-a/network-and-git-volumes: spec.volumes[1].gitRepo is {"repository":"https://example.com/x.git"}; volume "src" is of type gitRepo; ${restricted}`,
        details: { field: "spec.volumes[1].gitRepo", value: { repository: "https://example.com/x.git" } },
      },
    ]);
  });

  it("says when no volumes are allowed at all", () => {
    expect(denials(["no-volumes-allowed-refuses"]).map((d) => d.text)).toEqual([
      'pod team-a/no-volumes-allowed-refuses: spec.volumes[0].emptyDir is {}; volume "scratch" is of type emptyDir; no volumes are allowed.',
      'pod team-a/no-volumes-allowed-refuses: spec.volumes[1].configMap is {"name":"c"}; volume "config" is of type configMap; no volumes are allowed.',
    ]);
  });
});

describe("volume-types options", () => {
  const parse = (x: unknown) => volumeTypes.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to the Pod Security Standards restricted list", () => {
    const o = volumeTypes.options.parse({});
    expect(o.allowed).toEqual(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "image", "persistentVolumeClaim", "projected", "secret"]);
    expect(o.allowed).toEqual([...RESTRICTED_VOLUME_TYPES]);
    expect(volumeTypes.toParameters(o)).toEqual({ allowed: o.allowed });
    expect(volumeTypes.parameters.safeParse(volumeTypes.toParameters(o)).success).toBe(true);
    expect(volumeTypes.describe(o)).toBe(`volume types ${o.allowed.join(", ")}`);
  });

  it("sorts the list so equal settings render identically", () => {
    const a = volumeTypes.options.parse({ allowed: ["secret", "hostPath", "configMap"] });
    const b = volumeTypes.options.parse({ allowed: ["configMap", "secret", "hostPath"] });
    expect(a.allowed).toEqual(["configMap", "hostPath", "secret"]);
    expect(volumeTypes.toParameters(a)).toEqual(volumeTypes.toParameters(b));
  });

  it("accepts * alone and an empty list, and describes both", () => {
    expect(volumeTypes.describe(volumeTypes.options.parse({ allowed: ["*"] }))).toBe("any volume type");
    const none = volumeTypes.options.parse({ allowed: [] });
    expect(none.allowed).toEqual([]);
    expect(volumeTypes.describe(none)).toBe("no volumes");
  });

  it("rejects * beside other types, at the * entry", () => {
    expect(paths({ allowed: ["secret", "*"] })).toEqual([["allowed", 1]]);
  });

  it("rejects duplicates, at the repeated entry", () => {
    expect(paths({ allowed: ["secret", "emptyDir", "secret"] })).toEqual([["allowed", 2]]);
  });

  it("rejects unknown volume types and wrong spelling", () => {
    expect(paths({ allowed: ["configMap", "hostpath", "tmpfs"] })).toEqual([
      ["allowed", 1],
      ["allowed", 2],
    ]);
  });

  it("rejects a non-list and unknown fields", () => {
    expect(paths({ allowed: "secret" })).toEqual([["allowed"]]);
    const r = parse({ allowed: [], forbidden: ["hostPath"] });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.code).toBe("unrecognized_keys");
    expect((r.error!.issues[0] as { keys?: string[] }).keys).toEqual(["forbidden"]);
  });
});
