// The webhook dispatcher against real receivers (node:http on 127.0.0.1, verifying every
// signature with the standardwebhooks library): receiver down then up, 500s and timeouts retried
// on the documented schedule (time driven by the dispatcher's injectable clock, never slept), a
// dispatcher dying mid-send (its lease expires), two dispatchers racing (environment.offline and
// .online: webhook-liveness.test.ts; ordering, recovery, rotation: webhook-delivery.test.ts).
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { webhookTenant } from "../../test/harness/webhook-tenant.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { createDispatcher, FAILING_AFTER, MAX_ATTEMPTS, RETRY_DELAYS_MS, type DispatcherOptions } from "./webhook-dispatcher.ts";
import * as routes from "../../test/harness/routes.ts";

describe.each(backends())("webhook dispatcher ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
  });
  afterAll(() => api?.close());

  /** A tenant with an environment, its agent credential, and an endpoint at a fresh receiver. */
  const setup = (tenant: string, events: string[] = ["violation.opened", "violation.resolved"]) => webhookTenant(api, tenant, events);
  // A generous timeout: PGlite runs on the test's own event loop and can delay a response.
  const dispatcher = (clock: () => Date, o: Partial<DispatcherOptions> = {}, timeoutMs = 10_000) =>
    createDispatcher({ db: api.db, config: { ...api.config.webhooks!, timeoutMs }, now: clock, pollIntervalSeconds: 30, ...o });
  const deliveries = (endpointId: string) =>
    api.db.asSystem(async (tx) =>
      (
        await tx.execute<{ id: string; state: string; attempts: number; next_attempt_at: Date; lease_until: Date | null; event_type: string }>(
          sql`select id, state, attempts, next_attempt_at, lease_until, event_type, last_error from webhook_deliveries where endpoint_id = ${endpointId}::uuid order by created_at, id`,
        )
      ).rows.map((d) => ({ ...d, next_attempt_at: new Date(d.next_attempt_at), lease_until: d.lease_until && new Date(d.lease_until) })),
    );
  const attemptLog = (deliveryId: string) =>
    api.db.asSystem(async (tx) =>
      (
        await tx.execute<{ attempt: number; status_code: number | null; error: string | null; at: Date }>(
          sql`select attempt, status_code, error, at from webhook_attempts where delivery_id = ${deliveryId}::uuid order by attempt`,
        )
      ).rows.map((a) => ({ ...a, at: new Date(a.at) })),
    );
  const endpointRow = (id: string) =>
    api.db.asSystem(
      async (tx) =>
        (
          await tx.execute<{ consecutive_failures: number; failing_since: Date | null }>(
            sql`select consecutive_failures, failing_since from webhook_endpoints where id = ${id}::uuid`,
          )
        ).rows[0]!,
    );

  it("receiver down, then up: every event delivered, each exactly once as the receiver sees it, every signature valid", async () => {
    const s = await setup("wd-down");
    try {
      await s.report(auditReport({ collectedAt: "2026-01-01T00:00:00.000Z", constraints: [constraintAudit({}, 5)] }));
      await s.report(auditReport({ collectedAt: "2026-01-01T00:01:00.000Z", constraints: [constraintAudit({}, 3)] }));
      expect((await deliveries(s.ep.id)).map((d) => d.event_type).sort()).toEqual([
        ...Array(5).fill("violation.opened"),
        ...Array(2).fill("violation.resolved"),
      ]);
      await s.receiver.down();
      const t0 = Date.now() + 1000;
      // The 2 resolved wait behind their violations' opened (one violation's events in order).
      expect(await dispatcher(() => new Date(t0)).runOnce()).toMatchObject({ claimed: 5, succeeded: 0, failed: 5 });
      expect(await dispatcher(() => new Date(t0 + RETRY_DELAYS_MS[0] - 1)).runOnce()).toMatchObject({ claimed: 0 });
      await s.receiver.up();
      expect(await dispatcher(() => new Date(t0 + RETRY_DELAYS_MS[0])).runOnce()).toMatchObject({ claimed: 7, succeeded: 7 });
      expect(await dispatcher(() => new Date(t0 + 86_400_000)).runOnce()).toMatchObject({ claimed: 0 });
      expect(s.receiver.received.length).toBe(7);
      expect(s.receiver.received.every((r) => r.verified)).toBe(true);
      expect(s.receiver.processed().size).toBe(7);
      const rows = await deliveries(s.ep.id);
      expect(rows.map((d) => [d.event_type, d.state, d.attempts])).toEqual([
        ...Array(5).fill(["violation.opened", "succeeded", 2]),
        ...Array(2).fill(["violation.resolved", "succeeded", 1]),
      ]);
      expect([...s.receiver.processed().keys()].sort()).toEqual(rows.map((d) => d.id).sort());
      const resolved = [...s.receiver.processed().values()].filter((r) => r.body.type === "violation.resolved");
      expect(
        resolved
          .map((r) => (r.body.data as { violation: { state: string; resource: { name: string } } }).violation)
          .map((v) => [v.state, v.resource.name])
          .sort(),
      ).toEqual([
        ["resolved", "pod-3"],
        ["resolved", "pod-4"],
      ]);
      expect(resolved[0]!.body).toMatchObject({ version: 1, timestamp: "2026-01-01T00:01:00.000Z", data: { environment: { id: s.env.id, name: "prod" } } });
      const log = await attemptLog(rows[0]!.id);
      expect(log.map((a) => [a.attempt, a.status_code])).toEqual([
        [1, null],
        [2, 204],
      ]);
      expect(log[0]!.error).toMatch(/fetch failed|ECONNREFUSED/);
    } finally {
      await s.receiver.close();
    }
  });

  it("500s, then timeouts: retried exactly on the schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), then failed; the endpoint is marked failing", async () => {
    const s = await setup("wd-retry");
    try {
      const ping = await json(await api.call(routes.webhooks.ping, `/v1/webhooks/${s.ep.id}/ping`, { token: s.token }));
      s.receiver.mode = "500";
      let t = Date.now() + 1000;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        if (attempt === 4) s.receiver.mode = "hang";
        const delay = attempt === 1 ? 0 : RETRY_DELAYS_MS[attempt - 2]!;
        if (attempt > 1) expect(await dispatcher(() => new Date(t + delay - 1)).runOnce(), `early for attempt ${attempt}`).toMatchObject({ claimed: 0 });
        t += delay;
        expect(await dispatcher(() => new Date(t), {}, 500).runOnce(), `attempt ${attempt}`).toMatchObject({ claimed: 1, failed: 1 });
        const [d] = await deliveries(s.ep.id);
        expect(d!.attempts).toBe(attempt);
        if (attempt < MAX_ATTEMPTS) expect([d!.state, d!.next_attempt_at.getTime()]).toEqual(["pending", t + RETRY_DELAYS_MS[attempt - 1]!]);
        const ep = await endpointRow(s.ep.id);
        expect(ep.consecutive_failures).toBe(attempt);
        expect(ep.failing_since !== null, `failing after ${attempt}`).toBe(attempt >= FAILING_AFTER);
      }
      const [d] = await deliveries(s.ep.id);
      expect(d!.state).toBe("failed");
      // Nothing more, ever (with a retention long enough to keep the log for the checks below).
      expect(await dispatcher(() => new Date(t + 365 * 86_400_000), { config: { ...api.config.webhooks!, retentionDays: 3650 } }).runOnce()).toMatchObject({
        claimed: 0,
      });
      const log = await attemptLog(ping.id);
      expect(log.map((a) => a.status_code)).toEqual([500, 500, 500, null, null, null, null, null]);
      expect(log.slice(3).every((a) => /timed out after 500 ms/.test(a.error!))).toBe(true);
      // The whole schedule spans about a day.
      expect(log[7]!.at.getTime() - log[0]!.at.getTime()).toBe(RETRY_DELAYS_MS.reduce((a, b) => a + b, 0));
      expect(s.receiver.received.map((r) => r.id)).toEqual(Array(8).fill(ping.id));
      expect(s.receiver.received.every((r) => r.verified)).toBe(true);
      const view = await json(await api.call(routes.webhooks.get, `/v1/webhooks/${s.ep.id}`, { token: s.token }));
      expect(view).toMatchObject({ failing: true, consecutiveFailures: 8 });

      // Redelivered by hand once the receiver is healthy: delivered, and the endpoint recovers.
      s.receiver.mode = "ok";
      expect((await api.request("POST", `/v1/webhooks/${s.ep.id}/deliveries/${ping.id}/redeliver`, { token: s.token })).status).toBe(202);
      expect(await dispatcher(() => new Date(Date.now() + 1000)).runOnce()).toMatchObject({ claimed: 1, succeeded: 1 });
      expect(await json(await api.call(routes.webhooks.get, `/v1/webhooks/${s.ep.id}`, { token: s.token }))).toMatchObject({
        failing: false,
        consecutiveFailures: 0,
        failingSince: null,
      });
      expect(s.receiver.processed().size).toBe(1);
    } finally {
      await s.receiver.close();
    }
  });

  it("a dispatcher that dies mid-send: its claim's lease expires and another delivers it; nothing lost, received once", async () => {
    const s = await setup("wd-crash");
    try {
      const ping = await json(await api.call(routes.webhooks.ping, `/v1/webhooks/${s.ep.id}/ping`, { token: s.token }));
      const t0 = Date.now() + 1000;
      const leaseMs = 60_000;
      let sent = 0;
      // The dying dispatcher: it claims, then its send never returns (the process is gone).
      const dead = dispatcher(() => new Date(t0), {
        leaseMs,
        fetch: () => {
          sent++;
          return new Promise<Response>(() => {});
        },
      });
      void dead.runOnce();
      for (let i = 0; i < 100 && sent === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(sent).toBe(1);
      const [claimed] = await deliveries(s.ep.id);
      expect(claimed).toMatchObject({ state: "pending", attempts: 1 });
      expect(claimed!.lease_until!.getTime()).toBe(t0 + leaseMs);
      // While the lease holds, nobody else takes it.
      expect(await dispatcher(() => new Date(t0 + leaseMs - 1), { leaseMs }).runOnce()).toMatchObject({ claimed: 0 });
      expect(await dispatcher(() => new Date(t0 + leaseMs), { leaseMs }).runOnce()).toMatchObject({ claimed: 1, succeeded: 1 });
      expect(s.receiver.received.map((r) => [r.id, r.verified])).toEqual([[ping.id, true]]);
      expect(await deliveries(s.ep.id)).toMatchObject([{ state: "succeeded", attempts: 2 }]);
    } finally {
      await s.receiver.close();
    }
  });

  it("two dispatchers at once never send the same attempt: 60 deliveries, 60 requests, each delivery once", async () => {
    const s = await setup("wd-race");
    try {
      await s.report(auditReport({ constraints: [constraintAudit({}, 60)] }));
      expect((await deliveries(s.ep.id)).length).toBe(60);
      const t = new Date(Date.now() + 1000);
      const a = dispatcher(() => t, { batchSize: 7, concurrency: 3 });
      const b = dispatcher(() => t, { batchSize: 7, concurrency: 3 });
      const claims = { a: 0, b: 0 };
      const loop = async (d: typeof a, k: "a" | "b") => {
        for (;;) {
          const r = await d.runOnce();
          claims[k] += r.claimed;
          if (r.claimed === 0) return;
        }
      };
      await Promise.all([loop(a, "a"), loop(b, "b")]);
      expect(claims.a + claims.b).toBe(60);
      expect(s.receiver.received.length).toBe(60);
      expect(new Set(s.receiver.received.map((r) => r.id)).size).toBe(60);
      expect(s.receiver.received.every((r) => r.verified)).toBe(true);
      expect((await deliveries(s.ep.id)).every((d) => d.state === "succeeded" && d.attempts === 1)).toBe(true);
    } finally {
      await s.receiver.close();
    }
  });

  it("events exist only with the change that made them: refused or stale reports queue nothing", async () => {
    const s = await setup("wd-outbox", ["violation.opened", "violation.resolved", "settings.applied"]);
    try {
      // A status naming a revision the environment does not have is refused (400): no settings.applied.
      expect(
        (await api.request("POST", AGENT_PATHS.status, { token: s.cred.secret, body: statusReport({ appliedRevision: 9, desiredRevision: 9 }) })).status,
      ).toBe(400);
      expect(await deliveries(s.ep.id)).toEqual([]);
      // A malformed audit report: nothing.
      expect((await api.request("POST", AGENT_PATHS.auditReport, { token: s.cred.secret, body: { collectedAt: "x", constraints: [] } })).status).toBe(400);
      expect(await deliveries(s.ep.id)).toEqual([]);
      await s.report(auditReport({ collectedAt: "2026-01-01T00:10:00.000Z", constraints: [constraintAudit({}, 2)] }));
      expect((await deliveries(s.ep.id)).length).toBe(2);
      // A late retry of an older report (not stored) would resolve both and open others: nothing.
      await s.report(auditReport({ collectedAt: "2026-01-01T00:05:00.000Z", constraints: [constraintAudit({ name: "other" }, 3)] }));
      // And the same report again: nothing.
      await s.report(auditReport({ collectedAt: "2026-01-01T00:10:00.000Z", constraints: [constraintAudit({}, 2)] }));
      expect((await deliveries(s.ep.id)).length).toBe(2);
    } finally {
      await s.receiver.close();
    }
  });

  it("finished deliveries and their attempt logs are deleted WEBHOOK_RETENTION_DAYS after they finished; pending ones stay", async () => {
    const s = await setup("wd-retention");
    try {
      await s.report(auditReport({ collectedAt: "2026-01-01T00:00:00.000Z", constraints: [constraintAudit({}, 2)] }));
      const t0 = Date.now() + 1000;
      const day = 86_400_000;
      const week = (clock: () => Date) => dispatcher(clock, { config: { ...api.config.webhooks!, retentionDays: 7 } });
      // (Counts are the whole database's — other tests' deliveries too — so this checks its own rows.)
      await week(() => new Date(t0)).runOnce();
      const done = await deliveries(s.ep.id);
      expect(done.map((d) => d.state)).toEqual(["succeeded", "succeeded"]);
      // A delivery still pending (its next attempt far away) is never a candidate, however old.
      const tenantId = await api.tenantId("wd-retention");
      await api.db.asSystem((tx) =>
        tx.execute(sql`
        insert into webhook_deliveries (tenant_id, endpoint_id, event_type, payload, next_attempt_at, created_at)
        values (${tenantId}::uuid, ${s.ep.id}::uuid, 'violation.opened', '{}'::jsonb, ${new Date(t0 + 365 * day).toISOString()}::timestamptz, ${new Date(t0 - 365 * day).toISOString()}::timestamptz)`),
      );

      await week(() => new Date(t0 + 7 * day - 1000)).runOnce();
      expect((await deliveries(s.ep.id)).map((d) => d.state).sort()).toEqual(["pending", "succeeded", "succeeded"]);
      expect((await attemptLog(done[0]!.id)).length).toBe(1);
      expect((await week(() => new Date(t0 + 7 * day + 1000)).runOnce()).pruned).toBeGreaterThanOrEqual(2);
      expect((await deliveries(s.ep.id)).map((d) => d.state)).toEqual(["pending"]);
      for (const d of done) expect(await attemptLog(d.id)).toEqual([]);
      await week(() => new Date(t0 + 300 * day)).runOnce();
      expect((await deliveries(s.ep.id)).map((d) => d.state)).toEqual(["pending"]);
    } finally {
      await s.receiver.close();
    }
  });
});
