// npm run render -- <settings.json|yaml> [--preset baseline|restricted] [--now <RFC 3339>]
// Prints the exact objects the agent would apply, as YAML, with the summary as comments on top.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse } from "yaml";
import {
  applyPreset,
  EnvironmentSettings,
  fieldIssues,
  PRESET_NAMES,
  renderEnvironment,
  toYaml,
  type EnvironmentSettingsInput,
  type PresetName,
} from "../policies/index.ts";

const usage = `usage: npm run render -- [settings.json|settings.yaml] [--preset ${PRESET_NAMES.join("|")}] [--now <time>]
  settings  an environment settings document (JSON or YAML); omit it to render a preset alone
  --preset  replace the document's controls with a Pod Security Standards preset
  --now     evaluate exemption expiry at this time (default: now)`;

// `npm run render -- x.yaml | head` closes the pipe early: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => process.exit(e.code === "EPIPE" ? 0 : 1));

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: { preset: { type: "string" }, now: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (e) {
    return fail(`${(e as Error).message}\n${usage}`);
  }
})();
if (values.help) fail(usage, 0);
if (positionals.length > 1 || (positionals.length === 0 && !values.preset)) fail(usage);

let input: EnvironmentSettingsInput = {};
if (positionals[0]) {
  let text: string;
  try {
    text = readFileSync(positionals[0], "utf8");
  } catch (e) {
    fail(`cannot read ${positionals[0]}: ${(e as Error).message}`);
  }
  try {
    input = (parse(text) ?? {}) as EnvironmentSettingsInput;
  } catch (e) {
    fail(`${positionals[0]} is not valid JSON or YAML: ${(e as Error).message}`);
  }
}
if (values.preset) {
  if (!PRESET_NAMES.includes(values.preset as PresetName)) fail(`unknown preset "${values.preset}"; one of: ${PRESET_NAMES.join(", ")}`);
  input = applyPreset(input, values.preset as PresetName);
}
const now = values.now ? new Date(values.now) : new Date();
if (Number.isNaN(now.getTime())) fail(`--now: not a time: ${values.now}`);

const parsed = EnvironmentSettings.safeParse(input);
if (!parsed.success) {
  fail(
    `invalid settings:\n${fieldIssues(parsed.error)
      .map((i) => `  ${i.path}: ${i.message}`)
      .join("\n")}`,
  );
}
const { objects, summary } = renderEnvironment(parsed.data, now);
process.stdout.write(`${summary.map((l) => `# ${l}`).join("\n")}\n${toYaml(objects)}`);
