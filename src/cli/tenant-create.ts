// npm run tenant:create -- <slug> [--name <display name>]
// The operator's way to create a tenant when TENANT_PROVISIONING=closed (tokens then cannot).
// Idempotent: an existing slug is reported and left alone. The creation is audited in the
// tenant's log with the actor cli:<OS user>. Prints {"id","slug","created"} as JSON.
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { ConfigError, parseEnv, type Env } from "../app/config.ts";
import { TenantSlug } from "../app/env.ts";
import { openDatabase } from "../db/client.ts";
import { createTenant } from "../services/tenants.ts";

const usage = "usage: npm run tenant:create -- <slug> [--name <display name>]";

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

const { values, positionals } = (() => {
  try {
    return parseArgs({ allowPositionals: true, options: { name: { type: "string" }, help: { type: "boolean", short: "h" } } });
  } catch (e) {
    return fail(`${(e as Error).message}\n${usage}`);
  }
})();
if (values.help) fail(usage, 0);
if (positionals.length !== 1) fail(usage);
const [slug = ""] = positionals;
if (!TenantSlug.safeParse(slug).success) fail(`<slug>: "${slug}" must be a lowercase DNS label (a-z, 0-9, -), as the token's tenant claim`);
const name = values.name?.trim();
if (values.name !== undefined && (!name || name.length > 200)) fail("--name: 1 to 200 characters");

let env: Env;
try {
  env = parseEnv(process.env);
} catch (e) {
  fail(e instanceof ConfigError ? e.message : String(e));
}
const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.GATEHOUSE_DATA_DIR, wsProxy: env.NEON_WS_PROXY, poolSize: env.DATABASE_POOL_SIZE });
try {
  const actor = `cli:${userInfo().username}`;
  const result = await createTenant(db, slug, { actor, provisioning: "cli", name });
  process.stdout.write(`${JSON.stringify({ id: result.id, slug, created: result.created })}\n`);
  if (!result.created) process.stderr.write(`tenant "${slug}" already exists; nothing changed\n`);
} catch (e) {
  process.stderr.write(`${String(e)}\n`);
  process.exitCode = 1;
} finally {
  await db.close();
}
