// Before any test file runs: build the real tools (a cold machine pays once, visibly) and the
// migrated template databases (PGlite and PostgreSQL), so parallel workers don't race to.
import { prepareTestDatabases } from "./backends.ts";
import { toolPath, type Tool } from "./tools.ts";

const TOOLS: readonly Tool[] = ["gator", "gatekeeper", "crds", "etcd", "kube"];

export default async function setup() {
  for (const tool of TOOLS) toolPath(tool);
  await prepareTestDatabases();
}
