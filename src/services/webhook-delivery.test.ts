// Delivery guarantees beyond "sent and retried" (webhook-dispatcher.test.ts), against real
// receivers that verify every Standard Webhooks signature, on both databases: no duplicate sends
// with two dispatchers and a slow receiver, one violation's events in order per endpoint, pending
// retries brought forward once the endpoint answers again, both secrets signing during a
// rotation's overlap, and violation.updated when an open violation's enforcement changes.
// Time is the dispatcher's injectable clock; nothing here sleeps for a schedule.
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { auditReport, constraintAudit, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backends } from "../../test/harness/backends.ts";
import { startReceiver, verifyWith, wireOf, type Receiver } from "../../test/harness/webhook-receiver.ts";
import { webhookTenant } from "../../test/harness/webhook-tenant.ts";
import { createDispatcher, RETRY_DELAYS_MS, type Dispatcher, type DispatcherOptions } from "./webhook-dispatcher.ts";
import * as routes from "../../test/harness/routes.ts";
import * as routeDefs from "../../test/harness/routes.ts";

/** Report times in the recent past (a report may not come from the future). */
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe.each(backends())("webhook delivery guarantees ($name)", (backend) => {
  // A database per test: pass results count the whole database's deliveries.
  let api: TestApi;
  const receivers: Receiver[] = [];
  beforeEach(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
    await api?.close();
  });

  async function setup(tenant: string, events: string[]) {
    const t = await webhookTenant(api, tenant, events);
    receivers.push(t.receiver);
    const { receiver, token, env, ep } = t;
    const report = (collectedAt: string, constraints: ReturnType<typeof constraintAudit>[]) => t.report(auditReport({ collectedAt, constraints }));
    const ping = async () => json(await api.call(routes.webhooks.ping, `/v1/webhooks/${ep.id}/ping`, { token }));
    return { receiver, token, env, ep, report, ping };
  }
  const dispatcher = (clock: () => Date, o: Partial<DispatcherOptions> = {}) =>
    createDispatcher({ db: api.db, config: { ...api.config.webhooks!, timeoutMs: 10_000 }, now: clock, pollIntervalSeconds: 30, ...o });
  /** Passes until one claims nothing. */
  const drain = async (d: Dispatcher) => {
    let claimed = 0;
    for (let r = await d.runOnce(); r.claimed > 0; r = await d.runOnce()) claimed += r.claimed;
    return claimed;
  };
  const deliveries = (endpointId: string) =>
    api.db.asSystem(
      async (tx) =>
        (
          await tx.execute<{ id: string; state: string; attempts: number; event_type: string; payload: { data: Record<string, unknown> } }>(
            sql`select id, state, attempts, event_type, payload from webhook_deliveries where endpoint_id = ${endpointId}::uuid order by created_at, id`,
          )
        ).rows,
    );
  const audited = (i: number) => constraintAudit({ auditTimestamp: ago(120_000 - i * 1000) }, 0);

  // 400 claims and records on PGlite, which shares the test's event loop: minutes on a busy machine.
  it("two dispatchers and a slow receiver, 200 events: none is sent twice", { timeout: 240_000 }, async () => {
    const s = await setup("wd-dup", ["violation.opened"]);
    await s.report(ago(60_000), [{ ...constraintAudit({ auditTimestamp: ago(61_000) }, 200) }]);
    expect((await deliveries(s.ep.id)).length).toBe(200);
    s.receiver.delayMs = 20;
    // The clock moves 1 s with every request sent: a receiver slow enough, as a 60 s lease sees
    // it, that a claimed row left waiting behind 60 others outlives its lease.
    const t0 = Date.now() + 1000;
    let t = t0;
    const clock = () => new Date(t);
    let second: Promise<number> | undefined;
    const b = dispatcher(clock, { leaseMs: 60_000, fetch: (url, init) => ((t += 1000), globalThis.fetch(url, init)) });
    const a = dispatcher(clock, {
      leaseMs: 60_000,
      fetch: (url, init) => {
        t += 1000;
        // The second instance starts its passes while the first is well into its own.
        if (!second && t >= t0 + 70_000) second = drain(b);
        return globalThis.fetch(url, init);
      },
    });
    await drain(a);
    await second;
    await Promise.all([drain(a), drain(b)]);
    const sends = new Map<string, number>();
    for (const r of s.receiver.received) sends.set(r.id, (sends.get(r.id) ?? 0) + 1);
    expect(sends.size).toBe(200);
    expect([...sends.values()].filter((n) => n > 1).length, "deliveries sent more than once").toBe(0);
    expect(s.receiver.received.every((r) => r.verified)).toBe(true);
    expect((await deliveries(s.ep.id)).every((d) => d.state === "succeeded" && d.attempts === 1)).toBe(true);
  });

  it("one violation's events reach an endpoint in order: resolved waits while its opened is retried", async () => {
    const s = await setup("wd-order", ["violation.opened", "violation.resolved"]);
    await s.report(ago(60_000), [constraintAudit({ auditTimestamp: ago(61_000) }, 1)]);
    await s.report(ago(30_000), [audited(0)]);
    expect((await deliveries(s.ep.id)).map((d) => d.event_type)).toEqual(["violation.opened", "violation.resolved"]);
    let refused = false;
    s.receiver.refuse = (r) => r.body.type === "violation.opened" && !refused && (refused = true);
    const t0 = Date.now() + 1000;
    // The opened fails and is scheduled 5 s later; the resolved is held behind it, not sent.
    expect(await dispatcher(() => new Date(t0)).runOnce()).toMatchObject({ claimed: 1, failed: 1 });
    expect(await dispatcher(() => new Date(t0 + 1000)).runOnce()).toMatchObject({ claimed: 0 });
    expect(await drain(dispatcher(() => new Date(t0 + RETRY_DELAYS_MS[0])))).toBe(2);
    expect(s.receiver.received.map((r) => r.body.type)).toEqual(["violation.opened", "violation.opened", "violation.resolved"]);
    expect([...s.receiver.processed().values()].map((r) => r.body.type)).toEqual(["violation.opened", "violation.resolved"]);
    expect(s.receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("another violation's events are not held behind a failing one", async () => {
    const s = await setup("wd-order-other", ["violation.opened"]);
    await s.report(ago(60_000), [constraintAudit({ auditTimestamp: ago(61_000) }, 3)]);
    const [first] = await deliveries(s.ep.id);
    s.receiver.refuse = (r) => r.id === first!.id;
    expect(await dispatcher(() => new Date(Date.now() + 1000)).runOnce()).toMatchObject({ claimed: 3, succeeded: 2, failed: 1 });
  });

  it("an endpoint that answers again gets its pending retries at once, not on the retry schedule", async () => {
    const s = await setup("wd-recover", ["violation.opened"]);
    await s.report(ago(60_000), [constraintAudit({ auditTimestamp: ago(61_000) }, 3)]);
    await s.receiver.down();
    let t = Date.now() + 1000;
    // Three failed attempts each: the next is 30 minutes away.
    for (const delay of [0, RETRY_DELAYS_MS[0], RETRY_DELAYS_MS[1]]) {
      t += delay;
      expect(await dispatcher(() => new Date(t)).runOnce()).toMatchObject({ claimed: 3, failed: 3 });
    }
    await s.receiver.up();
    t += 60_000; // the receiver is back; the retries are still 29 minutes away
    expect(await dispatcher(() => new Date(t)).runOnce()).toMatchObject({ claimed: 0 });
    // A new event goes straight through; its success brings the queued ones forward.
    await s.ping();
    expect(await drain(dispatcher(() => new Date(t)))).toBe(4);
    const rows = await deliveries(s.ep.id);
    expect(rows.map((d) => [d.event_type, d.state, d.attempts])).toEqual([
      ...Array(3).fill(["violation.opened", "succeeded", 4]),
      ["webhook.ping", "succeeded", 1],
    ]);
    expect(s.receiver.processed().size).toBe(4);
    expect(s.receiver.received.every((r) => r.verified)).toBe(true);
  });

  it("after a secret rotation both secrets sign for the overlap window (24 h by default), then only the new one", async () => {
    const s = await setup("wd-rotate", ["violation.opened"]);
    const oldSecret: string = s.ep.secret;
    const rotated = await json(await api.call(routes.webhooks.rotate, `/v1/webhooks/${s.ep.id}/rotate-secret`, { token: s.token }));
    expect(rotated.secret).not.toBe(oldSecret);
    s.receiver.secret = rotated.secret;
    const rotatedAt = Date.now();
    const sendAt = async (at: number) => {
      const ping = await s.ping();
      expect(await dispatcher(() => new Date(at)).runOnce()).toMatchObject({ claimed: 1, succeeded: 1 });
      return s.receiver.received.find((r) => r.id === ping.id)!;
    };
    const during = await sendAt(rotatedAt + 23 * 3_600_000);
    expect(wireOf(during).headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect([verifyWith(during, oldSecret), verifyWith(during, rotated.secret)]).toEqual([true, true]);
    const after = await sendAt(rotatedAt + 25 * 3_600_000);
    expect(wireOf(after).headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect([verifyWith(after, oldSecret), verifyWith(after, rotated.secret)]).toEqual([false, true]);
    // Rotating again within the window: the previous secret is the one just replaced.
    const again = await json(await api.call(routes.webhooks.rotate, `/v1/webhooks/${s.ep.id}/rotate-secret`, { token: s.token }));
    s.receiver.secret = again.secret;
    const third = await sendAt(Date.now() + 1000);
    expect([verifyWith(third, oldSecret), verifyWith(third, rotated.secret), verifyWith(third, again.secret)]).toEqual([false, true, true]);
  });

  it("the overlap is configurable: WEBHOOK_SECRET_OVERLAP_SECONDS=0 cuts over at once", async () => {
    await api.close();
    const cutover = (api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true, secretOverlapSeconds: 0 } }));
    const receiver = await startReceiver();
    receivers.push(receiver);
    {
      const token = await cutover.token("wd-cutover", "admin");
      const ep = await json(
        await cutover.call(routeDefs.webhooks.create, "/v1/webhooks", {
          token,
          body: { url: receiver.url, events: ["violation.opened"], deliveryMode: "per-violation" },
        }),
      );
      const rotated = await json(await cutover.call(routes.webhooks.rotate, `/v1/webhooks/${ep.id}/rotate-secret`, { token }));
      receiver.secret = rotated.secret;
      await cutover.request("POST", `/v1/webhooks/${ep.id}/ping`, { token });
      const d = createDispatcher({ db: cutover.db, config: cutover.config.webhooks!, now: () => new Date(Date.now() + 1000), pollIntervalSeconds: 30 });
      expect(await d.runOnce()).toMatchObject({ claimed: 1, succeeded: 1 });
      expect([verifyWith(receiver.received[0]!, ep.secret), verifyWith(receiver.received[0]!, rotated.secret)]).toEqual([false, true]);
    }
  });

  it("violation.updated when an open violation's enforcement action changes (warn → deny), once, in order after its opened", async () => {
    const s = await setup("wd-updated", ["violation.opened", "violation.updated"]);
    const warn = (at: string) =>
      constraintAudit({ auditTimestamp: at, enforcementAction: "warn", violations: [violation(0, { enforcementAction: "warn" })] }, 1);
    const deny = (at: string) =>
      constraintAudit({ auditTimestamp: at, enforcementAction: "deny", violations: [violation(0, { enforcementAction: "deny" })] }, 1);
    await s.report(ago(90_000), [warn(ago(91_000))]);
    await s.report(ago(60_000), [warn(ago(61_000))]); // unchanged: nothing
    await s.report(ago(30_000), [deny(ago(31_000))]);
    await s.report(ago(20_000), [deny(ago(21_000))]); // unchanged again: nothing
    const rows = await deliveries(s.ep.id);
    expect(rows.map((d) => d.event_type)).toEqual(["violation.opened", "violation.updated"]);
    expect(rows[1]!.payload.data).toMatchObject({
      violation: { state: "open", enforcementAction: "deny" },
      previous: { enforcementAction: "warn", control: "privileged-containers" },
      environment: { id: s.env.id, name: "prod" },
    });
    let refused = false;
    s.receiver.refuse = (r) => r.body.type === "violation.opened" && !refused && (refused = true);
    const t0 = Date.now() + 1000;
    expect(await dispatcher(() => new Date(t0)).runOnce()).toMatchObject({ claimed: 1, failed: 1 });
    expect(await drain(dispatcher(() => new Date(t0 + RETRY_DELAYS_MS[0])))).toBe(2);
    expect([...s.receiver.processed().values()].map((r) => r.body.type)).toEqual(["violation.opened", "violation.updated"]);
    expect(s.receiver.received.every((r) => r.verified)).toBe(true);
    // Subscribable like the others, and documented.
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    expect(doc.components.schemas.WebhookEventType.enum).toContain("violation.updated");
    expect(doc.components.schemas.ViolationUpdatedEvent.properties.type).toMatchObject({ enum: ["violation.updated"] });
  });
});
