// The operating limits' variables: quotas, rate limits and the metrics token have strict
// defaults, reach the app config, and a bad value is refused by name.
import { describe, expect, it } from "vitest";
import { DEFAULT_QUOTAS } from "../services/quotas.ts";
import { ConfigError, loadConfig, parseEnv } from "./config.ts";

const base = { GATEHOUSE_DATA_DIR: "memory://", DEV_JWT_SECRET: "x".repeat(32) };

describe("quota, rate-limit and metrics variables", () => {
  it("default to the documented values", async () => {
    const cfg = await loadConfig(base);
    expect(cfg.quotas).toEqual(DEFAULT_QUOTAS);
    expect(cfg.rateLimits).toEqual({ api: { perSecond: 50, burst: 200 }, agent: { perSecond: 5, burst: 60 } });
    expect(cfg.metricsToken).toBeUndefined();
    // PGlite's statements run on the API's thread: smaller chunks there (audit-ingest.ts).
    // Ingests at once: a quarter of the pool (DATABASE_POOL_SIZE, default 10), at least 1.
    expect(cfg.ingest).toEqual({ chunkSize: 250, concurrency: 2, queue: 100 });
    expect((await loadConfig({ ...base, DATABASE_URL: "postgres://u:p@db.example.com/g" })).ingest).toEqual({ chunkSize: 2000, concurrency: 2, queue: 100 });
    expect((await loadConfig({ ...base, DATABASE_POOL_SIZE: "40" })).ingest?.concurrency).toBe(10);
    expect((await loadConfig({ ...base, DATABASE_POOL_SIZE: "3" })).ingest?.concurrency).toBe(1);
  });

  it("each reaches the app config", async () => {
    const cfg = await loadConfig({
      ...base,
      TENANT_MAX_ENVIRONMENTS: "7",
      TENANT_MAX_WEBHOOKS: "3",
      TENANT_MAX_API_KEYS: "4",
      TENANT_MAX_AGENT_CREDENTIALS: "9",
      TENANT_MAX_DRAFTS: "6",
      AUDIT_INGEST_CHUNK_SIZE: "500",
      AUDIT_INGEST_CONCURRENCY: "3",
      AUDIT_INGEST_QUEUE: "0",
      RATE_LIMIT_PER_SECOND: "0.5",
      RATE_LIMIT_BURST: "10",
      AGENT_RATE_LIMIT_PER_SECOND: "0",
      AGENT_RATE_LIMIT_BURST: "2",
      METRICS_TOKEN: "a-long-metrics-token",
    });
    expect(cfg.quotas).toEqual({ environments: 7, webhooks: 3, apiKeys: 4, agentCredentials: 9, drafts: 6 });
    expect(cfg.ingest).toEqual({ chunkSize: 500, concurrency: 3, queue: 0 });
    expect(cfg.rateLimits).toEqual({ api: { perSecond: 0.5, burst: 10 }, agent: { perSecond: 0, burst: 2 } });
    expect(cfg.metricsToken).toBe("a-long-metrics-token");
  });

  it("refuses bad values by name", () => {
    const bad = {
      TENANT_MAX_ENVIRONMENTS: "0",
      TENANT_MAX_WEBHOOKS: "many",
      TENANT_MAX_API_KEYS: "1.5",
      TENANT_MAX_DRAFTS: "0",
      AUDIT_INGEST_CHUNK_SIZE: "10",
      AUDIT_INGEST_CONCURRENCY: "0",
      AUDIT_INGEST_QUEUE: "-1",
      RATE_LIMIT_PER_SECOND: "-1",
      RATE_LIMIT_BURST: "0",
      METRICS_TOKEN: "short",
    };
    let message = "";
    try {
      parseEnv(bad);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      message = (e as Error).message;
    }
    for (const name of Object.keys(bad)) expect(message).toContain(`${name}:`);
  });
});
