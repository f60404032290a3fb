// The agent is its own package: its image (agent/Dockerfile) installs only agent/package.json's
// dependencies, copies only agent/ and src/protocol/ and runs them as JavaScript (agent/build.ts).
// Nothing builds that image here, so this checks what would break it: every module the agent
// loads, followed from main.ts, lies in what the Dockerfile copies, every package it imports is an
// agent dependency, the lockfile is the package's, the build's JavaScript loads and is all of the
// agent, and the install manifest runs the image of this version.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { AGENT_IMAGE, AGENT_NODE_OPTIONS } from "../src/install/agent-manifest.ts";
import { buildAgent } from "./build.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const read = (p: string) => readFileSync(join(root, p), "utf8");
const agentPkg = JSON.parse(read("agent/package.json")) as { version: string; dependencies: Record<string, string> };
const rootPkg = JSON.parse(read("package.json")) as { dependencies: Record<string, string> };

/** Every file reachable from agent/main.ts by static or dynamic import, and the packages they import. */
function importGraph(): { files: string[]; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;]*?from\s+"([^"]+)"|import\s*\(\s*"([^"]+)"\s*\)|(?:^|\n)import\s+"([^"]+)"/g)].map(
      (m) => m[1] ?? m[2] ?? m[3] ?? "",
    );
    for (const s of specifiers) {
      if (s.startsWith("node:")) continue;
      if (s.startsWith(".")) visit(resolve(dirname(file), s));
      else packages.add(s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : (s.split("/")[0] ?? s));
    }
  };
  visit(join(root, "agent/main.ts"));
  return { files: [...files].map((f) => relative(root, f)).sort(), packages };
}

describe("the agent package", () => {
  const { files, packages } = importGraph();

  it("loads only agent/ and src/protocol/ — what its Dockerfile copies — and no test file", () => {
    expect(files).toContain("agent/reconcile.ts");
    expect(files).toContain("src/protocol/agent.ts");
    for (const f of files) {
      expect(f, f).toMatch(/^(agent|src\/protocol)\/[^/]+\.ts$/);
      expect(f, f).not.toMatch(/\.test\.ts$/);
    }
    const dockerfile = read("agent/Dockerfile");
    expect(dockerfile).toContain("COPY agent/package.json agent/package-lock.json ./");
    expect(dockerfile).toContain("RUN npm ci --omit=dev");
    expect(dockerfile).toContain("COPY agent/ ./agent/");
    expect(dockerfile).toContain("COPY src/protocol/ ./src/protocol/");
    expect(dockerfile).toContain("RUN node agent/build.ts /app/dist");
    expect(dockerfile).toContain("COPY --from=build /app/dist /app");
    expect(dockerfile).toContain('ENTRYPOINT ["node", "agent/main.js"]');
    // The image's flags are the manifest's (and so the Helm chart's: test/helm/agent-chart.test.ts).
    expect(dockerfile).toContain(`ENV NODE_OPTIONS="${AGENT_NODE_OPTIONS}"`);
  });

  it("calls no fetch and no WebAssembly: its flags (--jitless) leave neither", () => {
    expect(AGENT_NODE_OPTIONS).toContain("--jitless");
    // Calls as biome formats them (comments may name both).
    for (const f of files) expect(read(f), f).not.toMatch(/\bfetch\(|\bWebAssembly\./);
  });

  it("builds to JavaScript that is the whole agent and loads with no TypeScript left", () => {
    const out = mkdtempSync(join(tmpdir(), "agent-build-"));
    try {
      expect(buildAgent(out)).toEqual(files.map((f) => f.replace(/\.ts$/, ".js")));
      for (const f of files) expect(readFileSync(join(out, f.replace(/\.ts$/, ".js")), "utf8"), f).not.toMatch(/from\s*"\.{1,2}\/[^"]+\.ts"/);
      symlinkSync(join(root, "node_modules"), join(out, "node_modules"));
      // A fresh process with type stripping off: a .ts import or a type left in would fail here.
      const main = pathToFileURL(join(out, "agent/main.js")).href;
      const printed = execFileSync(
        process.execPath,
        [
          "--no-experimental-strip-types",
          "--input-type=module",
          "-e",
          `const m = await import(${JSON.stringify(main)}); console.log(m.AGENT_VERSION, typeof m.startAgent)`,
        ],
        { encoding: "utf8" },
      );
      expect(printed.trim()).toBe(`${agentPkg.version} function`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it("imports only its own dependencies, in the ranges the repository's tests run with", () => {
    const deps = Object.keys(agentPkg.dependencies).sort();
    expect([...packages].sort()).toEqual(deps);
    expect(packages.has("@kubernetes/client-node")).toBe(false);
    for (const d of deps) expect(agentPkg.dependencies[d], d).toBe(rootPkg.dependencies[d]);
  });

  it("has its own lockfile, made from agent/package.json", () => {
    const lock = JSON.parse(read("agent/package-lock.json")) as {
      name: string;
      packages: Record<string, { version?: string; dependencies?: Record<string, string> }>;
    };
    expect(lock.name).toBe("gatehouse-agent");
    expect(lock.packages[""]?.dependencies).toEqual(agentPkg.dependencies);
    for (const d of Object.keys(agentPkg.dependencies)) expect(lock.packages[`node_modules/${d}`]?.version, d).toBeTruthy();
    // Nothing of the API's in it.
    for (const heavy of ["hono", "drizzle-orm", "@electric-sql/pglite", "@kubernetes/client-node"])
      expect(lock.packages[`node_modules/${heavy}`], heavy).toBeUndefined();
  });

  it("the install manifest runs this version's image", () => {
    expect(AGENT_IMAGE).toBe(`ghcr.io/gatehouse/agent:${agentPkg.version}`);
  });
});
