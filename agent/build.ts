// The agent's image runs JavaScript, not TypeScript: this strips the types of the files the agent
// loads (followed from agent/main.ts: agent/*.ts and the shared src/protocol/*.ts) into an output
// directory with the same layout, each x.ts as x.js and its relative imports pointed at the .js.
// Why: Node's type stripping loads a WebAssembly TypeScript parser on the first .ts import and
// keeps it — ~17 MiB of RSS for the first .ts file, ~28 MiB for the agent's, in a process whose
// budget is 100 MiB (bench/agent measures both).
// Node's own stripTypeScriptTypes does it (the same transform Node applies at run time, which
// keeps every line and column, so stack traces point at the sources): no compiler, no dependency.
//
//   node agent/build.ts <out-dir>   (the Dockerfile runs it; bench/agent and package.test.ts too)
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// stripTypeScriptTypes is marked experimental in Node 24; its warning is noise in a build log.
process.removeAllListeners("warning");
const { stripTypeScriptTypes } = await import("node:module");

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Relative specifiers in import/export-from, side-effect imports and dynamic import("…"). */
const SPECIFIER = /(\bfrom\s*"|\bimport\s*"|\bimport\s*\(\s*")(\.{1,2}\/[^"]+)"/g;

/**
 * Writes outDir/agent/*.js, outDir/src/protocol/*.js and outDir/agent/package.json (main.ts
 * reads its version from it); returns the files written, relative to outDir.
 */
export function buildAgent(outDir: string, root = ROOT): string[] {
  const written: string[] = [];
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const rel = relative(root, file);
    if (!/^(agent|src\/protocol)\/[^/]+\.ts$/.test(rel) || rel.endsWith(".test.ts"))
      throw new Error(`the agent imports ${rel}, outside agent/ and src/protocol/`);
    const next: string[] = [];
    const js = stripTypeScriptTypes(readFileSync(file, "utf8")).replace(SPECIFIER, (_, head: string, spec: string) => {
      if (!spec.endsWith(".ts")) throw new Error(`${rel}: relative import "${spec}" does not name a .ts file`);
      next.push(resolve(dirname(file), spec));
      return `${head}${spec.slice(0, -3)}.js"`;
    });
    const out = rel.replace(/\.ts$/, ".js");
    mkdirSync(dirname(join(outDir, out)), { recursive: true });
    writeFileSync(join(outDir, out), js);
    written.push(out);
    for (const n of next) visit(n);
  };
  visit(join(root, "agent/main.ts"));
  copyFileSync(join(root, "agent/package.json"), join(outDir, "agent/package.json"));
  // src/protocol/*.js are ES modules too: the nearest package.json above them says so.
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify({ private: true, type: "module" })}\n`);
  return written.sort();
}

if (import.meta.main) {
  const out = process.argv[2];
  if (!out) throw new Error("usage: node agent/build.ts <out-dir>");
  const files = buildAgent(resolve(out));
  console.log(`agent: ${files.length} files stripped into ${out}`);
}
