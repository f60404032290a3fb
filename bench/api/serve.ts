// The server bench/api and bench/fleet load: exactly what `npm start` runs (src/node.ts: the
// config from the environment, openDatabase, createApp with metrics, node-server), without the
// webhook dispatcher, plus one bare route beside the app's own (GET /bench/bare → 304 through the
// app's middleware, no auth, no database) to compare with. Prints its port on stdout when ready.
import { createApp } from "../../src/app/app.ts";
import { loadConfig } from "../../src/app/config.ts";
import { createMetrics } from "../../src/app/metrics.ts";
import { openDatabase } from "../../src/db/client.ts";
import { serveApp } from "../../src/node-server.ts";

const config = await loadConfig(process.env);
const db = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, wsProxy: config.neonWsProxy, poolSize: config.databasePoolSize });
const routes = (await import("../../src/routes/index.ts")).routes;
const app = createApp({
  db,
  config,
  metrics: createMetrics(db),
  routes: [
    {
      register(a) {
        a.get("/bench/bare", (c) => c.body(null, 304));
        // bench/fleet reads the database pool's occupancy from here (the Neon driver's pool).
        a.get("/bench/pool", (c) => c.json(db.poolStats?.() ?? null));
      },
    },
    ...routes,
  ],
});
serveApp({ fetch: app.fetch, port: 0, onListening: (info) => process.stdout.write(`${info.port}\n`) });
process.on("SIGTERM", () => void db.close().finally(() => process.exit(0)));
