// Before any test file runs: build the real tools (a cold machine pays once, visibly), start the
// run's own throwaway PostgreSQL (unless GATEHOUSE_TEST_PGHOST/PGPORT name a server), and build
// the migrated template databases (PGlite and PostgreSQL), so parallel workers don't race to.
// Workers inherit the server's address through the environment; the returned teardown stops it.
import { backends, prepareTestDatabases } from "./backends.ts";
import { startRunPostgres } from "./postgres.ts";
import { toolPath, type Tool } from "./tools.ts";

const TOOLS: readonly Tool[] = ["gator", "gatekeeper", "crds", "etcd", "kube", "helm", "policyreport-crds", "psa", "psa-fixtures", "wsproxy"];

export default async function setup(): Promise<() => Promise<void>> {
  for (const tool of TOOLS) toolPath(tool);
  const usesPostgres = backends().some((b) => b.name === "postgres");
  const stopPostgres = usesPostgres ? await startRunPostgres() : undefined;
  try {
    await prepareTestDatabases();
  } catch (err) {
    await stopPostgres?.();
    throw err;
  }
  return async () => {
    await stopPostgres?.();
  };
}
