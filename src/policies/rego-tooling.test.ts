// The controls' Rego as OPA's own tools see it: formatted (`opa fmt`), compiling in strict mode
// (`opa check --strict`), laid out one module per control folder, and bundled into rego-files.ts
// exactly as the .rego files say. OPA is built from the Go module proxy (test/tools/build-tools.sh).
//
// Gatekeeper compiles a template's `rego` as Rego v0 with `import rego.v1` allowed, so the files
// must be valid in both versions: --v0-v1 formats and checks them for exactly that (plain
// `opa fmt` would drop the `import rego.v1` that v0 needs).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { toolPath } from "../../test/harness/tools.ts";
import { catalogue } from "./catalogue.ts";
import { REGO_FILES } from "./rego-files.ts";
import { regoFilesModule, regoPaths } from "./rego-files.build.ts";
import { REGO_LIB } from "./control.ts";
import { forGatekeeper, renderTemplate, templateName } from "./render.ts";
import { WORKLOADS_REGO_LIB } from "./workload-paths.ts";

const policies = fileURLToPath(new URL("./", import.meta.url));

function opa(...args: string[]) {
  const run = spawnSync(toolPath("opa"), args, { cwd: policies, encoding: "utf8" });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

describe("OPA's tools over src/policies/**/*.rego", () => {
  it("opa fmt --diff shows no diff", () => {
    expect(opa("fmt", "--v0-v1", "--fail", "--diff", ".")).toEqual({ status: 0, out: "" });
  });

  it("opa check --strict passes as Rego v0 with rego.v1 (what Gatekeeper runs) and as Rego v1", () => {
    expect(opa("check", "--strict", "--v0-v1", ".")).toEqual({ status: 0, out: "" });
    expect(opa("check", "--strict", ".")).toEqual({ status: 0, out: "" });
  });

  it("opa check --strict passes on the modules as rendered for Gatekeeper (Rego v0, future.keywords)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-opa-"));
    try {
      for (const c of catalogue) {
        const rego = renderTemplate(c).spec.targets as { rego: string; libs: string[] }[];
        writeFileSync(join(dir, `${c.slug}.rego`), rego[0]!.rego);
        writeFileSync(join(dir, "gatehouse.rego"), rego[0]!.libs[0]!);
        writeFileSync(join(dir, "gatehouse_workloads.rego"), rego[0]!.libs[1]!);
        expect(rego[0]!.rego).toBe(forGatekeeper(c.rego));
        expect(rego[0]!.libs).toEqual([forGatekeeper(REGO_LIB), forGatekeeper(WORKLOADS_REGO_LIB)]);
      }
      expect(opa("check", "--strict", "--v0-compatible", dir)).toEqual({ status: 0, out: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the generated workloads library is as opa fmt writes it and compiles in strict mode", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-opa-"));
    try {
      writeFileSync(join(dir, "gatehouse_workloads.rego"), WORKLOADS_REGO_LIB);
      expect(opa("fmt", "--v0-v1", "--fail", "--diff", dir)).toEqual({ status: 0, out: "" });
      expect(opa("check", "--strict", "--v0-v1", dir)).toEqual({ status: 0, out: "" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the renderer refuses a module that does not import rego.v1 rather than pass it on unchecked", () => {
    expect(() => forGatekeeper("package gatehousex\n\nimport future.keywords.if\n")).toThrow(/must import rego\.v1/);
  });

  it("opa check --strict refuses what strict mode forbids (the check is real)", () => {
    const dir = mkdtempSync(join(tmpdir(), "gatehouse-opa-"));
    try {
      writeFileSync(join(dir, "bad.rego"), "package bad\n\nimport rego.v1\n\nunused(x) := 1\n");
      const run = opa("check", "--strict", "--v0-v1", dir);
      expect(run.status).not.toBe(0);
      expect(run.out).toContain("unused argument x");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("one .rego module per control", () => {
  it.each(catalogue.map((c) => [c.slug, c] as const))("%s/%s.rego is the template's Rego", (slug, c) => {
    const text = readFileSync(new URL(`./${slug}/${slug}.rego`, import.meta.url), "utf8");
    expect(c.rego).toBe(text);
    // The package is the template's name, `control` the slug the exemption hint names.
    expect(text).toMatch(new RegExp(`^package ${templateName(c)}$`, "m"));
    expect(text).toContain(`\ncontrol := ${JSON.stringify(slug)}\n`);
    expect(text).toMatch(/^import rego\.v1$/m);
    expect(text).not.toContain("future.keywords");
  });

  it("every parameter is read one way: `name := input.parameters.key`, nowhere else", () => {
    for (const [path, text] of Object.entries(REGO_FILES)) {
      for (const line of text.split("\n").filter((l) => l.includes("parameters"))) {
        if (line.startsWith("#")) continue;
        expect(line, path).toMatch(/^[a-z_]+ := input\.parameters\.[A-Za-z]+$/);
      }
    }
  });

  it("holds the controls' modules and the shared library, nothing else", () => {
    const expected = [...catalogue.map((c) => `${c.slug}/${c.slug}.rego`), "common/gatehouse.rego"].sort();
    expect(regoPaths()).toEqual(expected);
  });

  it("rego-files.ts is up to date with the .rego files (else: npm run rego:bundle)", () => {
    expect(readFileSync(new URL("./rego-files.ts", import.meta.url), "utf8")).toBe(regoFilesModule());
  });
});
