// npm start: open (and migrate) the database, serve the API on PORT, drain on SIGTERM/SIGINT.
import { pino } from "pino";
import { createApp } from "./app/app.ts";
import { ConfigError, databaseOptions, loadConfig } from "./app/config.ts";
import { inProcessDeferred } from "./app/deferred.ts";
import { createMetrics } from "./app/metrics.ts";
import { nodeConsoleAssets } from "./console/serve.ts";
import { openDatabase } from "./db/client.ts";
import { intervalLoop } from "./lib/interval-loop.ts";
import { serveApp } from "./node-server.ts";
import { RESUME_INTERVAL_MS, resumeUnfinished } from "./services/audit-background.ts";
import { createRolloutScheduler } from "./services/rollout-scheduler.ts";
import { createDispatcher } from "./services/webhook-dispatcher.ts";
import { publicOnlyFetch } from "./services/webhook-fetch.ts";

let config: Awaited<ReturnType<typeof loadConfig>>;
try {
  config = await loadConfig(process.env);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(2);
}
const logger = pino({ level: config.logLevel });
const db = await openDatabase(databaseOptions(config));
let stopping = false;
// Audit reports sent with Prefer: respond-async are applied after their 202, in this process;
// those cut short (a restart, an error) are resumed from their stored copies.
const deferred = inProcessDeferred(db);
const app = createApp({ db, config, logger, metrics: createMetrics(db), accepting: () => !stopping, consoleAssets: nodeConsoleAssets, deferred });
const ingestLog = logger.child({ component: "audit-ingest" });
const resume = intervalLoop(
  () => resumeUnfinished(db, { config: config.ingest, linkBase: config.publicUrl ?? "", log: ingestLog }),
  (err) => ingestLog.error({ err }, "resuming unfinished audit reports failed"),
);
resume.start(RESUME_INTERVAL_MS);
// Webhooks: the dispatcher sends the outbox every WEBHOOK_DISPATCH_INTERVAL_MS (0: off), connecting
// only to the public addresses it checked (webhook-fetch.ts: no DNS rebinding).
const dispatcher = createDispatcher({
  db,
  config: config.webhooks!,
  pollIntervalSeconds: config.agent.pollIntervalSeconds,
  logger: logger.child({ component: "webhooks" }),
  fetch: publicOnlyFetch({ allowPrivate: config.webhooks!.allowPrivate }),
});
if (config.webhooks!.dispatchIntervalMs > 0) dispatcher.start(config.webhooks!.dispatchIntervalMs);
// Rollout plans: due steps become revisions every ROLLOUT_INTERVAL_MS (0: off).
const rollouts = createRolloutScheduler({ db, pollIntervalSeconds: config.agent.pollIntervalSeconds, logger: logger.child({ component: "rollouts" }) });
if (config.rolloutIntervalMs! > 0) rollouts.start(config.rolloutIntervalMs!);

// node-server.ts: oversized headers and unparsable requests are answered with problem+json too.
const server = serveApp({
  fetch: app.fetch,
  port: config.port,
  onListening: (info) =>
    logger.info(
      {
        port: info.port,
        database: config.databaseUrl ? "postgres" : `pglite:${config.dataDir}`,
        auth: config.jwt.jwksUrl ? `jwks:${config.jwt.jwksUrl}` : `dev-key:${config.jwt.devKey?.alg}`,
      },
      `gatehouse listening on http://localhost:${info.port} (console at /, docs at /docs)`,
    ),
});

function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, "shutting down: finishing in-flight requests");
  // A stuck client must not keep the process alive past the orchestrator's grace period.
  const force = setTimeout(() => {
    logger.warn("in-flight requests did not finish in 10 s; exiting");
    process.exit(1);
  }, 10_000);
  force.unref();
  server.close(() => {
    // A pass in flight finishes (its attempts are recorded), and so do reports being applied, before the database closes.
    Promise.all([dispatcher.stop(), rollouts.stop(), resume.stop(), deferred.idle()])
      .then(() => db.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, "closing the database failed");
          process.exit(1);
        },
      );
  });
  // Idle keep-alive connections would otherwise hold server.close() open.
  if ("closeIdleConnections" in server) server.closeIdleConnections();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
