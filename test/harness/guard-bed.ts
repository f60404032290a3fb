// The world of the request-guard suites (src/app/body-guard.test.ts, text-guard.test.ts): a tenant
// with an environment, an admin token and an agent credential, and a snapshot of every row a
// refused request could have written, to prove it wrote none.
import { sql } from "drizzle-orm";
import { createAgentCredential } from "./agent-api.ts";
import { createTestApi, type TestApi } from "./api.ts";
import type { TestBackend } from "./backends.ts";
import { createEnvironment, type EnvJson } from "./environments.ts";

export interface GuardBed {
  api: TestApi;
  env: EnvJson;
  admin: string;
  agent: string;
}

export async function openGuardBed(backend: TestBackend, tenant: string): Promise<GuardBed> {
  const api = await createTestApi(backend);
  const env = await createEnvironment(api, tenant, { name: "prod", description: "kept" });
  return { api, env, admin: await api.token(tenant, "admin"), agent: (await createAgentCredential(api, tenant, env.id)).secret };
}

/** Every row of these tables in the tenant, in a stable order. */
export async function tenantRows(api: TestApi, tenant: string, tables: readonly string[]): Promise<unknown[][]> {
  return api.db.withTenant(await api.tenantId(tenant), async (tx) => {
    const rows = async (table: string) => (await tx.execute(sql.raw(`select * from ${table} order by 1`))).rows;
    return Promise.all(tables.map(rows));
  });
}
