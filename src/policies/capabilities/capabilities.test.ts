import { describe, expect, it } from "vitest";
import { gatorTest } from "../../../test/harness/gator.ts";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { controlSettingsSchema } from "../control-settings.ts";
import { renderConstraint, renderTemplate } from "../render.ts";
import { capabilities } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(capabilities, samples);

describe("capabilities requiredDrop messages, evaluated by gator", () => {
  /** What a denied user reads (without the exemption hint) and the finding's value, per sample. */
  const denials = (names: string[]) => {
    const chosen = samples.filter((s) => names.includes(s.name));
    const settings = controlSettingsSchema(capabilities).parse({ options: chosen[0]!.options });
    const policy = [
      renderTemplate(capabilities),
      renderConstraint(capabilities, { ...settings, enforcementAction: "deny" }, { namespaces: [], images: [] }, new Date("2026-06-01T00:00:00Z")),
    ];
    const objects = chosen.map((s) => ({ ...s.object, metadata: { ...(s.object.metadata as object), name: s.name } }));
    return gatorTest(policy, objects)
      .map((r) => ({ text: r.msg.replace(/ To allow it, exempt .*$/, ""), value: r.metadata?.details?.value }))
      .sort((a, b) => a.text.localeCompare(b.text));
  };
  const app = (kind: string, name: string, i = 0) =>
    `${kind === "containers" ? "container" : "init container"} "${name}" (${kind}[${i}], image registry.example.com/team/app:1.4.2)`;
  const must = (required: string) => `every container must drop ${required} (drop ALL satisfies every entry).`;

  it("shows the container's own drop list (null when unset) and the required entries it lacks", () => {
    expect(denials(["restricted-missing-drop"]).filter((d) => d.text.includes("capabilities.drop"))).toEqual([
      {
        text: `pod team-a/restricted-missing-drop: ${app("containers", "app")}: securityContext.capabilities.drop is null; ALL is missing from it; ${must("ALL")}`,
        value: null,
      },
      {
        text: `pod team-a/restricted-missing-drop: ${app("containers", "sidecar", 1)}: securityContext.capabilities.drop is ["NET_RAW","SYS_ADMIN"]; ALL is missing from it; ${must("ALL")}`,
        value: ["NET_RAW", "SYS_ADMIN"],
      },
    ]);
  });

  it("gives one finding per container, naming every missing entry", () => {
    expect(denials(["required-drop-missing-one", "required-drop-listed"])).toEqual([
      {
        text: `pod team-a/required-drop-missing-one: ${app("containers", "app")}: securityContext.capabilities.drop is ["NET_RAW"]; SYS_ADMIN is missing from it; ${must("NET_RAW, SYS_ADMIN")}`,
        value: ["NET_RAW"],
      },
      {
        text: `pod team-a/required-drop-missing-one: ${app("initContainers", "setup")}: securityContext.capabilities.drop is null; NET_RAW, SYS_ADMIN are missing from it; ${must("NET_RAW, SYS_ADMIN")}`,
        value: null,
      },
    ]);
  });
});

describe("capabilities options", () => {
  const parse = (x: unknown) => capabilities.options.safeParse(x);
  const paths = (x: unknown) => {
    const r = parse(x);
    expect(r.success).toBe(false);
    return r.error!.issues.map((i) => i.path);
  };

  it("defaults to no additions and no required drops", () => {
    const o = capabilities.options.parse({});
    expect(o).toEqual({ allowedAdd: [], requiredDrop: [], names: "normalised" });
    expect(capabilities.toParameters(o)).toEqual({ allowedAdd: [], requiredDrop: [], exactNames: false });
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
    expect(o).toEqual({ allowedAdd: ["ALL"], requiredDrop: ["ALL"], names: "normalised" });
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
