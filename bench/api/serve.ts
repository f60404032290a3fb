// The server bench/api and bench/fleet load: exactly what `npm start` runs (src/node.ts: the
// config from the environment, openDatabase, createApp with metrics, node-server), without the
// webhook dispatcher, plus one bare route beside the app's own (GET /bench/bare → 304 through the
// app's middleware, no auth, no database) to compare with. Prints its port on stdout when ready.
import { createApp } from "../../src/app/app.ts";
import { databaseOptions, loadConfig } from "../../src/app/config.ts";
import { createMetrics } from "../../src/app/metrics.ts";
import { openDatabase } from "../../src/db/client.ts";
import { serveApp } from "../../src/node-server.ts";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";

const config = await loadConfig(process.env);
const db = await openDatabase(databaseOptions(config));
const loop = monitorEventLoopDelay({ resolution: 10 });
loop.enable();
let gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    gc.count += 1;
    gc.totalMs = Math.round(gc.totalMs + e.duration);
    gc.maxMs = Math.max(gc.maxMs, Math.round(e.duration));
  }
}).observe({ entryTypes: ["gc"] });
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
        // bench/fleet reads where the server's own time went: event-loop delay and GC pauses
        // since the last ?reset (a queue on the server's thread shows here, not in its CPU).
        a.get("/bench/loop", (c) => {
          // The histogram counts the sampling timer's own 10 ms: what is left is the delay.
          const ms = (ns: number) => Math.max(0, Number((ns / 1e6 - 10).toFixed(1)));
          const memory = process.memoryUsage();
          const mib = (b: number) => Math.round(b / 2 ** 20);
          const out = {
            p50: ms(loop.percentile(50)),
            p99: ms(loop.percentile(99)),
            max: ms(loop.max),
            gc,
            heapMiB: mib(memory.heapUsed),
            rssMiB: mib(memory.rss),
          };
          if (c.req.query("reset") !== undefined) {
            loop.reset();
            gc = { count: 0, totalMs: 0, maxMs: 0 };
          }
          return c.json(out);
        });
      },
    },
    ...routes,
  ],
});
serveApp({ fetch: app.fetch, port: 0, onListening: (info) => process.stdout.write(`${info.port}\n`) });
process.on("SIGTERM", () => void db.close().finally(() => process.exit(0)));
