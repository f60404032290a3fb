// npm run db:migrate: apply pending migrations to DATABASE_URL (or the PGlite data directory)
// and exit. `npm start` migrates on its own; Workers cannot, so run this before `wrangler deploy`.
import { parseEnv, ConfigError } from "../app/config.ts";
import { openDatabase } from "../db/client.ts";

try {
  const env = parseEnv(process.env);
  const db = await openDatabase({ url: env.DATABASE_URL, dataDir: env.GATEHOUSE_DATA_DIR, wsProxy: env.NEON_WS_PROXY });
  await db.close();
  process.stdout.write(`migrations applied to ${env.DATABASE_URL ? "DATABASE_URL" : `PGlite at ${env.GATEHOUSE_DATA_DIR ?? ".gatehouse/data"}`}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof ConfigError ? e.message : String(e)}\n`);
  process.exit(e instanceof ConfigError ? 2 : 1);
}
