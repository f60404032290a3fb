import { describe, expect, it } from "vitest";
import { verifyControlSamples } from "../../../test/harness/samples.ts";
import { SAFE_SYSCTLS, SAFE_SYSCTLS_V1_32, safeSysctls, sysctls } from "./index.ts";
import { samples } from "./samples.ts";

verifyControlSamples(sysctls, samples);

const paths = (x: unknown) => {
  const r = sysctls.options.safeParse(x);
  expect(r.success).toBe(false);
  return r.error!.issues.map((i) => i.path.join("."));
};

describe("sysctls options", () => {
  it("defaults {} to the safe set only, and passes the safe set in the parameters", () => {
    const o = sysctls.options.parse({});
    expect(o).toEqual({ forbidden: [], allowedUnsafe: [], safeSet: "latest", names: "normalised" });
    const p = sysctls.toParameters(o);
    expect(p).toEqual({ safeSysctls: safeSysctls("latest"), forbidden: [], allowedUnsafe: [], exactNames: false });
    expect(SAFE_SYSCTLS).toContain("net.ipv4.ip_unprivileged_port_start");
    expect(SAFE_SYSCTLS).toHaveLength(10);
    // v1.32 added tcp_rmem and tcp_wmem; a pinned v1.31 goes without them.
    expect(safeSysctls("latest")).toEqual([...SAFE_SYSCTLS, ...SAFE_SYSCTLS_V1_32].sort());
    expect(safeSysctls("v1.32")).toEqual(safeSysctls("latest"));
    expect(safeSysctls("v1.31")).toEqual([...SAFE_SYSCTLS].sort());
    expect(sysctls.describe(o)).toBe("sysctls: the Kubernetes safe set");
  });

  it("sorts both lists so equal settings render identically", () => {
    const a = sysctls.options.parse({ allowedUnsafe: ["net.core.somaxconn", "kernel.msg*"], forbidden: ["vm.*", "fs.*"] });
    const b = sysctls.options.parse({ allowedUnsafe: ["kernel.msg*", "net.core.somaxconn"], forbidden: ["fs.*", "vm.*"] });
    expect(a).toEqual({ forbidden: ["fs.*", "vm.*"], allowedUnsafe: ["kernel.msg*", "net.core.somaxconn"], safeSet: "latest", names: "normalised" });
    expect(JSON.stringify(sysctls.toParameters(a))).toBe(JSON.stringify(sysctls.toParameters(b)));
    expect(sysctls.describe(a)).toBe("sysctls: the Kubernetes safe set plus kernel.msg*, net.core.somaxconn, except fs.*, vm.*");
  });

  it("accepts * alone, prefix globs and slash-containing names", () => {
    const o = sysctls.options.parse({ allowedUnsafe: ["*"], forbidden: ["kernel.*", "net.ipv4.conf.eth0/100.rp_filter"] });
    expect(o.allowedUnsafe).toEqual(["*"]);
  });

  it("refuses empty strings and misplaced or repeated *", () => {
    expect(paths({ forbidden: [""] })).toEqual(["forbidden.0"]);
    expect(paths({ allowedUnsafe: ["kernel.msgmax", "*.msgmax"] })).toEqual(["allowedUnsafe.1"]);
    expect(paths({ forbidden: ["kernel.**"] })).toEqual(["forbidden.0"]);
    expect(paths({ forbidden: ["ker*nel"] })).toEqual(["forbidden.0"]);
  });

  it("refuses characters outside a sysctl name", () => {
    expect(paths({ allowedUnsafe: ["Kernel.msgmax"] })).toEqual(["allowedUnsafe.0"]);
    expect(paths({ forbidden: ["kernel msgmax"] })).toEqual(["forbidden.0"]);
    expect(paths({ forbidden: ["kernel.msg?"] })).toEqual(["forbidden.0"]);
  });

  it("refuses duplicates at the repeated entry", () => {
    expect(paths({ forbidden: ["vm.*", "fs.*", "vm.*"] })).toEqual(["forbidden.2"]);
  });

  it("refuses allowedUnsafe entries a forbidden glob makes dead, citing the input position", () => {
    expect(paths({ forbidden: ["kernel.*"], allowedUnsafe: ["net.core.somaxconn", "kernel.msgmax"] })).toEqual(["allowedUnsafe.1"]);
    expect(paths({ forbidden: ["*"], allowedUnsafe: ["kernel.*"] })).toEqual(["allowedUnsafe.0"]);
    expect(paths({ forbidden: ["kernel.sem"], allowedUnsafe: ["kernel.sem"] })).toEqual(["allowedUnsafe.0"]);
    // A narrower forbidden glob inside a wider allowed one is meaningful: forbidden wins there.
    expect(sysctls.options.safeParse({ forbidden: ["kernel.msg*"], allowedUnsafe: ["kernel.*"] }).success).toBe(true);
  });

  it("refuses unknown fields and non-arrays", () => {
    expect(paths({ allowedUnsafeSysctls: [] })).toEqual([""]);
    expect(paths({ forbidden: "kernel.*" })).toEqual(["forbidden"]);
  });
});
