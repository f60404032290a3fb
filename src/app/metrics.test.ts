// /metrics and /readyz on both databases: request counters labelled by route pattern (not raw
// path), latency histograms, the outbox gauges read from the database, the pool on PostgreSQL,
// the optional bearer token, and readiness turning 503 while draining.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createMetrics, UNMATCHED_ROUTE } from "./metrics.ts";
import * as routes from "../../test/harness/routes.ts";

/** Parses `name{labels} value` lines of the Prometheus text format into a lookup. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

describe.each(backends())("$name", (backend) => {
  let api: TestApi;
  let draining = false;
  beforeAll(async () => {
    api = await createTestApi(backend, { metrics: (db) => createMetrics(db, { defaultMetrics: false }), accepting: () => !draining });
  });
  afterAll(() => api?.close());

  it("counts requests by route pattern and status, and times them", async () => {
    const admin = await api.token("metrics-co", "admin");
    const created = await api.call(routes.environments.createEnv, "/v1/environments", { token: admin, body: { name: "prod-eu" } });
    expect(created.status).toBe(201);
    const { id } = await json(created);
    for (let i = 0; i < 3; i++) expect((await api.request("GET", `/v1/environments/${id}`, { token: admin })).status).toBe(200);
    expect((await api.request("GET", `/v1/environments/${crypto.randomUUID()}`, { token: admin })).status).toBe(404);
    for (const path of ["/no/such/a", "/no/such/b"]) expect((await api.request("GET", path)).status).toBe(404);

    const res = await api.request("GET", "/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const s = samples(await res.text());
    expect(s.get('gatehouse_http_requests_total{method="GET",route="/v1/environments/:id",status="200"}')).toBe(3);
    expect(s.get('gatehouse_http_requests_total{method="GET",route="/v1/environments/:id",status="404"}')).toBe(1);
    expect(s.get('gatehouse_http_requests_total{method="POST",route="/v1/environments",status="201"}')).toBe(1);
    // Unknown paths share one series: a scanner cannot grow the label set.
    expect(s.get(`gatehouse_http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",status="404"}`)).toBe(2);
    expect([...s.keys()].some((k) => k.includes("/no/such"))).toBe(false);
    expect(s.get('gatehouse_http_request_duration_seconds_count{method="GET",route="/v1/environments/:id"}')).toBe(4);
    expect(s.get("gatehouse_webhook_outbox_pending")).toBe(0);
    expect(s.get("gatehouse_webhook_outbox_oldest_age_seconds")).toBe(0);
    if (backend.name === "postgres") expect(s.get('gatehouse_db_pool_connections{state="total"}')).toBeGreaterThan(0);
    else expect([...s.keys()].some((k) => k.startsWith("gatehouse_db_pool"))).toBe(false);
  });

  it("answers /readyz while serving and 503 problem+json while draining", async () => {
    expect(await json(await api.request("GET", "/readyz"))).toEqual({ status: "ready" });
    draining = true;
    try {
      await expectProblem(await api.request("GET", "/readyz"), 503);
      // Liveness is not readiness: a draining process is still alive.
      expect((await api.request("GET", "/healthz")).status).toBe(200);
    } finally {
      draining = false;
    }
  });
});

describe("METRICS_TOKEN", () => {
  it("is required when set", async () => {
    const withToken = await createTestApi(undefined, {
      metrics: (db) => createMetrics(db, { defaultMetrics: false }),
      configure: (c) => (c.metricsToken = "s3cret-metrics-token"),
    });
    try {
      await expectProblem(await withToken.request("GET", "/metrics"), 401);
      await expectProblem(await withToken.request("GET", "/metrics", { headers: { authorization: "Bearer wrong-token-wrong-token" } }), 401);
      const ok = await withToken.request("GET", "/metrics", { headers: { authorization: "Bearer s3cret-metrics-token" } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toContain("gatehouse_http_requests_total");
    } finally {
      await withToken.close();
    }
  });

  it("has no /metrics at all without a metrics registry (Workers)", async () => {
    const plain = await createTestApi();
    try {
      await expectProblem(await plain.request("GET", "/metrics"), 404);
    } finally {
      await plain.close();
    }
  });
});
