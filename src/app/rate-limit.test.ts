// Per-credential rate limits: a burst, then 429 problem+json with Retry-After; refilled as the
// (pinned) clock moves; one credential's limit never slows another's, nor another tenant's; agent
// credentials have their own limit; refusals are counted per tenant in /metrics; 0 turns it off.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, type TestApi } from "../../test/harness/api.ts";
import { createMetrics } from "./metrics.ts";
import { createRateLimiter } from "./rate-limit.ts";

describe("token bucket", () => {
  it("allows a burst, then says how long to wait, and refills at the rate", () => {
    const limiter = createRateLimiter({ perSecond: 2, burst: 3 });
    expect([0, 0, 0].map(() => limiter.take("k", 0))).toEqual([0, 0, 0]);
    expect(limiter.take("k", 0)).toBe(1);
    expect(limiter.take("k", 499)).toBe(1); // 0.998 tokens: not yet
    expect(limiter.take("k", 500)).toBe(0);
    expect(limiter.take("other", 500)).toBe(0);
    // A long quiet spell refills to the burst, never beyond.
    expect([0, 0, 0, 1].map(() => limiter.take("k", 60_000))).toEqual([0, 0, 0, 1]);
  });

  it("rounds a wait up to whole seconds (Retry-After is an integer)", () => {
    const limiter = createRateLimiter({ perSecond: 0.1, burst: 1 });
    expect(limiter.take("k", 0)).toBe(0);
    expect(limiter.take("k", 0)).toBe(10);
  });
});

describe("the API", () => {
  let api: TestApi;
  // Now, not a fixed date: the tokens are signed at the real time, and a clock a day away refuses them.
  let t = Date.now();
  beforeAll(async () => {
    api = await createTestApi(undefined, {
      now: () => new Date(t),
      metrics: (db) => createMetrics(db, { defaultMetrics: false }),
      configure: (c) => (c.rateLimits = { api: { perSecond: 1, burst: 3 }, agent: { perSecond: 1, burst: 2 } }),
    });
  });
  afterAll(() => api?.close());

  it("limits each credential on its own, and answers 429 with Retry-After", async () => {
    const alice = await api.token("rl-acme", "viewer", { sub: "alice@rl-acme" });
    const bob = await api.token("rl-acme", "viewer", { sub: "bob@rl-acme" });
    for (let i = 0; i < 3; i++) expect((await api.request("GET", "/v1/tenant", { token: alice })).status).toBe(200);
    const refused = await api.request("GET", "/v1/tenant", { token: alice });
    expect(refused.headers.get("retry-after")).toBe("1");
    const p = await expectProblem(refused, 429);
    expect(p.detail).toMatch(/at most 1 per second/);
    // Bob, in the same tenant, is not slowed by Alice.
    expect((await api.request("GET", "/v1/tenant", { token: bob })).status).toBe(200);
    t += 1000;
    expect((await api.request("GET", "/v1/tenant", { token: alice })).status).toBe(200);
    const metrics = await (await api.request("GET", "/metrics")).text();
    const tenantId = await api.tenantId("rl-acme");
    expect(metrics).toContain(`gatehouse_rate_limited_total{tenant="${tenantId}"} 1`);
  });

  it("never spends a bucket on a request that fails authentication", async () => {
    for (let i = 0; i < 10; i++) await expectProblem(await api.request("GET", "/v1/tenant", { token: "forged" }), 401);
    const carol = await api.token("rl-acme", "viewer", { sub: "carol@rl-acme" });
    expect((await api.request("GET", "/v1/tenant", { token: carol })).status).toBe(200);
  });

  it("documents 429 on every authenticated operation", async () => {
    const doc = (await (await api.request("GET", "/openapi.json")).json()) as { paths: unknown };
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, { responses: Record<string, unknown> }>>)) {
      for (const [method, op] of Object.entries(item)) {
        if (op.responses["401"]) expect(op.responses, `${method} ${path}`).toHaveProperty("429");
      }
    }
  });
});

describe("turned off", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(undefined, { configure: (c) => (c.rateLimits = { api: { perSecond: 0, burst: 1 }, agent: { perSecond: 0, burst: 1 } }) });
  });
  afterAll(() => api?.close());

  it("at a rate of 0", async () => {
    const token = await api.token("rl-off", "viewer");
    for (let i = 0; i < 5; i++) expect((await api.request("GET", "/v1/tenant", { token })).status).toBe(200);
  });
});
