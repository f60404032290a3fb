// Before any test file runs: build the real tools (a cold machine pays once, visibly) and the
// migrated template databases (PGlite and PostgreSQL), so parallel workers don't race to.
import { prepareTestDatabases } from "./backends.ts";
import { toolPath } from "./tools.ts";

export default async function setup() {
  toolPath("gator");
  await prepareTestDatabases();
}
