// Prometheus metrics for the Node API (`GET /metrics`): requests by route and status, latency
// histograms, the database pool, audit ingests running and waiting, and the webhook outbox's depth and age. Node only: prom-client
// needs Node's APIs, so the Workers entry never imports this file (createApp takes it as a dep).
// Route labels are Hono's route patterns (`/v1/environments/:id`), never raw paths, so a scan of
// random URLs cannot blow up the label set.
import { sql } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/client.ts";
import { ingestSlots } from "../services/audit-ingest.ts";

export interface ApiMetrics {
  registry: Registry;
  /** Counts and times every request; mount first so it sees every response. */
  middleware: MiddlewareHandler;
  /** Counts a request refused by a rate limit, per tenant. */
  rateLimited(tenantId: string): void;
  /** Prometheus text exposition of everything registered. */
  render(): Promise<{ contentType: string; body: string }>;
}

/** The label for requests no route matched: one series, whatever the path. */
export const UNMATCHED_ROUTE = "(unmatched)";

export function createMetrics(db: Database, opts: { defaultMetrics?: boolean } = {}): ApiMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "gatehouse_" });

  const requests = new Counter({
    name: "gatehouse_http_requests_total",
    help: "HTTP requests answered, by method, route pattern and status code.",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "gatehouse_http_request_duration_seconds",
    help: "Time from receiving a request to its response, by method and route pattern.",
    labelNames: ["method", "route"] as const,
    // From a 304 poll (sub-millisecond) to a large audit report (seconds).
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const limited = new Counter({
    name: "gatehouse_rate_limited_total",
    help: "Requests refused with 429 by a per-credential rate limit, by tenant id.",
    labelNames: ["tenant"] as const,
    registers: [registry],
  });

  const pool = db.poolStats?.();
  if (pool) {
    new Gauge({
      name: "gatehouse_db_pool_connections",
      help: "Database pool connections by state (total, idle) and requests waiting for one.",
      labelNames: ["state"] as const,
      registers: [registry],
      collect() {
        const s = db.poolStats?.();
        if (!s) return;
        this.set({ state: "total" }, s.total);
        this.set({ state: "idle" }, s.idle);
        this.set({ state: "waiting" }, s.waiting);
      },
    });
  }

  new Gauge({
    name: "gatehouse_audit_ingests",
    help: "Audit-report ingests of this process running and waiting for a slot (AUDIT_INGEST_CONCURRENCY, AUDIT_INGEST_QUEUE).",
    labelNames: ["state"] as const,
    registers: [registry],
    collect() {
      const s = ingestSlots(db);
      this.set({ state: "running" }, s.running);
      this.set({ state: "waiting" }, s.waiting);
    },
  });

  // Read at scrape time (one indexed query), so a stuck dispatcher shows as a growing age.
  const outbox = async () => {
    const { rows } = await db.asSystem((tx) =>
      tx.execute<{ depth: number; age: number | null }>(
        sql`select count(*)::int as depth, extract(epoch from now() - min(created_at))::float8 as age
              from webhook_deliveries where state = 'pending'`,
      ),
    );
    return rows[0] ?? { depth: 0, age: null };
  };
  new Gauge({
    name: "gatehouse_webhook_outbox_pending",
    help: "Webhook deliveries waiting to be sent (all tenants).",
    registers: [registry],
    async collect() {
      this.set((await outbox()).depth);
    },
  });
  new Gauge({
    name: "gatehouse_webhook_outbox_oldest_age_seconds",
    help: "Age of the oldest webhook delivery still pending (0 when none).",
    registers: [registry],
    async collect() {
      this.set((await outbox()).age ?? 0);
    },
  });

  const middleware: MiddlewareHandler = async (c, next) => {
    const end = duration.startTimer();
    try {
      await next();
    } finally {
      // routePath is the matched pattern; a 404 from notFound matches "/*" or nothing.
      const matched = c.req.routePath;
      const route = c.res.status === 404 && (!matched || matched === "/*") ? UNMATCHED_ROUTE : matched || UNMATCHED_ROUTE;
      const labels = { method: c.req.method, route };
      end(labels);
      requests.inc({ ...labels, status: String(c.res.status) });
    }
  };

  return {
    registry,
    middleware,
    rateLimited: (tenant) => limited.inc({ tenant }),
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
