// The render command as a user runs it: real process, real files, exit codes and output.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";

const cli = fileURLToPath(new URL("../../src/cli/render.ts", import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
const file = (name: string, text: string) => {
  const path = join(mkdtempSync(join(tmpdir(), "gatehouse-cli-")), name);
  writeFileSync(path, text);
  return path;
};

describe("npm run render", () => {
  it("prints the summary as comments and the objects as YAML", () => {
    const out = run("examples/settings.yaml", "--now", "2026-06-01T00:00:00Z");
    expect(out.status).toBe(0);
    expect(out.stdout).toMatch(/^# 4 of 17 controls enabled\n/);
    const docs = parseAllDocuments(out.stdout, { version: "1.1" }).map((d) => d.toJS());
    expect(docs.map((d) => d.kind)).toEqual([
      ...Array(4).fill("ConstraintTemplate"),
      "GatehousePrivilegedContainers",
      "GatehouseHostNamespaces",
      "GatehouseHostNetworkPorts",
      "GatehouseCapabilities",
      "ExpansionTemplate",
      "ExpansionTemplate",
    ]);
  });

  it("drops an exemption once it expires", () => {
    const before = run("examples/settings.yaml", "--now", "2027-06-29T00:00:00Z").stdout;
    const after = run("examples/settings.yaml", "--now", "2027-06-30T00:00:00Z").stdout;
    expect(before).toContain("ingress-*");
    expect(after).not.toContain("ingress-*");
  });

  it("renders a preset alone, and reads JSON as well as YAML", () => {
    const alone = run("--preset", "restricted");
    expect(alone.status).toBe(0);
    expect(alone.stdout).toMatch(/^# 15 of 17 controls enabled\n/); // restricted leaves two seed controls off
    const json = run(file("s.json", JSON.stringify({ controls: { privilegedContainers: {} } })));
    expect(json.status).toBe(0);
    expect(json.stdout).toContain("kind: GatehousePrivilegedContainers");
  });

  it("refuses invalid settings with every failing path, and renders nothing", () => {
    const out = run(file("bad.yaml", "controls:\n  capabilities:\n    options:\n      allowedAdd: ['NET ADMIN']\n  bogus: {}\n"));
    expect(out.status).toBe(2);
    expect(out.stdout).toBe("");
    expect(out.stderr).toContain("controls.capabilities.options.allowedAdd[0]");
    expect(out.stderr).toContain("bogus");
  });

  it.each([
    [["missing.yaml"], /cannot read missing.yaml/],
    [["--preset", "strict"], /unknown preset "strict"/],
    [["--now", "yesterday", "--preset", "baseline"], /--now: not a time/],
    [[], /usage:/],
    [["--frobnicate"], /Unknown option/],
  ])("%j → a clear error, exit 2", (args, message) => {
    const out = run(...args);
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(message);
  });

  it("reports a file that is not YAML", () => {
    const out = run(file("broken.yaml", "controls: [unclosed\n"));
    expect(out.status).toBe(2);
    expect(out.stderr).toMatch(/is not valid JSON or YAML/);
  });
});
