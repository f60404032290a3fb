// npm run agent:manifest -- [--api-url URL] [--image IMAGE] [--out FILE]
// Prints the agent's install manifest (no token Secret); `--out infra/agent.yaml` refreshes the
// committed copy (a test fails when that copy is stale).
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { agentManifest } from "../install/agent-manifest.ts";

export const DEFAULT_API_URL = "https://gatehouse.example.com";

const { values } = parseArgs({
  options: { "api-url": { type: "string", default: DEFAULT_API_URL }, image: { type: "string" }, out: { type: "string" } },
});
const yaml = agentManifest({ apiUrl: values["api-url"]!, image: values.image });
if (values.out) writeFileSync(values.out, yaml);
else process.stdout.write(yaml);
