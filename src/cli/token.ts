// npm run token -- --tenant acme --role admin [--sub alice] [--ttl 1h]
// Mints a dev JWT signed with the same dev key `npm start` verifies with. Refuses under JWKS_URL:
// then tokens come from the real identity provider.
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../app/config.ts";
import { mintDevToken } from "../app/dev-key.ts";
import { ROLES, TenantSlug, type Role } from "../app/env.ts";

const usage = `usage: npm run token -- --tenant <slug> --role ${ROLES.join("|")} [--sub <subject>] [--ttl <30s|15m|1h|1d>]
  prints a dev token for: curl -H "Authorization: Bearer $(npm run -s token -- --tenant acme --role admin)"`;

function fail(message: string, code = 2): never {
  process.stderr.write(`${message}\n`);
  process.exit(code);
}

function parseTtl(ttl: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(ttl);
  if (!m) return undefined;
  const seconds = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as "s" | "m" | "h" | "d"];
  return seconds > 0 && seconds <= 30 * 86400 ? seconds : undefined;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: "string" },
        role: { type: "string" },
        sub: { type: "string", default: "dev" },
        ttl: { type: "string", default: "1h" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    return fail(`${(e as Error).message}\n${usage}`);
  }
})();
if (values.help) fail(usage, 0);
if (!values.tenant || !values.role) fail(usage);
if (!TenantSlug.safeParse(values.tenant).success) fail(`--tenant: "${values.tenant}" must be a lowercase DNS label (a-z, 0-9, -)`);
if (!ROLES.includes(values.role as Role)) fail(`--role: one of ${ROLES.join(", ")}`);
const ttlSeconds = parseTtl(values.ttl);
if (ttlSeconds === undefined) fail(`--ttl: "${values.ttl}" is not a duration like 30s, 15m, 1h or 7d (max 30d)`);
if (!values.sub.trim()) fail("--sub: must not be empty");

let config: Awaited<ReturnType<typeof loadConfig>>;
try {
  config = await loadConfig(process.env);
} catch (e) {
  fail(e instanceof ConfigError ? e.message : `cannot load the dev key: ${(e as Error).message}`);
}
if (config.jwt.jwksUrl) fail("JWKS_URL is set: tokens must come from your identity provider, not the dev key.");
if (!config.jwt.devKey) fail("no dev key available");
// The API refuses tokens that claim a longer lifetime; do not mint one it would refuse.
const maxTtl = config.jwt.maxLifetimeSeconds;
if (maxTtl !== undefined && ttlSeconds > maxTtl)
  fail(`--ttl: "${values.ttl}" is longer than JWT_MAX_LIFETIME_SECONDS (${maxTtl} s), which the API would refuse`);

const token = await mintDevToken(
  config.jwt.devKey,
  { sub: values.sub, tenant: values.tenant, role: values.role },
  { issuer: config.jwt.issuer, audience: config.jwt.audience, ttlSeconds },
);
process.stdout.write(`${token}\n`);
