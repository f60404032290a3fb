// Notifications that scale, against real receivers that verify every Standard Webhooks signature,
// on both databases: a digest endpoint gets one violations.changed per audit report (however many
// chunks the ingest took) with what it opened, resolved and updated up to DIGEST_LIMIT and a link
// to the rest; per-violation endpoints keep one event each; filters by control and enforcement
// action in both modes; a 10,000-violation report is one delivery per digest endpoint; the
// per-endpoint rate limit holds deliveries back in order and drops none; the Slack format.
// Time is the dispatcher's injectable clock; nothing here sleeps for a schedule.
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { startReceiver, type Receiver } from "../../test/harness/webhook-receiver.ts";
import type { ConstraintAudit } from "../protocol/agent.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { DIGEST_LIMIT } from "./violation-webhooks.ts";
import { createDispatcher } from "./webhook-dispatcher.ts";
import * as routes from "../../test/harness/routes.ts";

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const VIOLATION_EVENTS = ["violation.opened", "violation.resolved", "violation.updated"];

/** A constraint listing violations `ids` (violation(i)), each with `ea` (default deny). */
const listing = (ids: number[], o: Partial<ConstraintAudit> = {}, ea = (_i: number) => "deny"): ConstraintAudit => ({
  ...constraintAudit({ auditTimestamp: ago(600_000), ...o }, 0),
  totalViolations: ids.length,
  violations: ids.map((i) => violation(i, { enforcementAction: ea(i) })),
});
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
const capabilities = { kind: "GatehouseCapabilities", name: "capabilities", control: "capabilities", enforcementAction: "warn" };

type Ep = Record<string, any> & { id: string; receiver: Receiver };

describe.each(backends())("webhook digests, filters, rate limits, Slack ($name)", (backend) => {
  let api: TestApi;
  const receivers: Receiver[] = [];
  beforeEach(async () => {
    // Chunks of 100: a few hundred violations take several transactions, as a large report does.
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true }, configure: (c) => (c.ingest = { chunkSize: 100 }) });
  });
  afterEach(async () => {
    for (const r of receivers.splice(0)) await r.close();
    await api?.close();
  });

  async function setup(tenant: string, endpoints: Record<string, unknown>[]) {
    const token = await api.token(tenant, "admin");
    const env = await createEnvironment(api, tenant, { name: "prod" });
    const cred = await createAgentCredential(api, tenant, env.id);
    const eps: Ep[] = [];
    for (const body of endpoints) {
      const receiver = await startReceiver();
      receivers.push(receiver);
      const res = await api.call(routes.webhooks.create, "/v1/webhooks", { token, body: { url: receiver.url, events: VIOLATION_EVENTS, ...body } });
      expect(res.status).toBe(201);
      const ep = await json(res);
      receiver.secret = ep.secret;
      eps.push({ ...ep, receiver });
    }
    const report = async (collectedAt: string, constraints: ConstraintAudit[]) =>
      expect((await api.request("POST", AGENT_PATHS.auditReport, { token: cred.secret, body: { collectedAt, constraints } })).status).toBe(204);
    // As many as asked for (a tuple, so destructuring needs no checks).
    return { token, env, eps: eps as unknown as [Ep, Ep, Ep, Ep], report };
  }
  const deliveries = (endpointId: string) =>
    api.db.asSystem(
      async (tx) =>
        (
          await tx.execute<{ id: string; state: string; event_type: string; payload: { data: Record<string, any> } }>(
            sql`select id, state, event_type, payload from webhook_deliveries where endpoint_id = ${endpointId}::uuid order by seq`,
          )
        ).rows,
    );
  const drain = async (clock = () => new Date()) => {
    const d = createDispatcher({ db: api.db, config: { ...api.config.webhooks!, timeoutMs: 10_000 }, now: clock, pollIntervalSeconds: 30 });
    let claimed = 0;
    for (let r = await d.runOnce(); r.claimed > 0; r = await d.runOnce()) claimed += r.claimed;
    return claimed;
  };

  it("digest: one violations.changed per report and endpoint, capped, with a link to the rest; per-violation: one event each", {
    timeout: 120_000,
  }, async () => {
    const s = await setup("dg-one", [{}, { deliveryMode: "per-violation" }]);
    const [digest, each] = s.eps;
    expect([digest.deliveryMode, each.deliveryMode]).toEqual(["digest", "per-violation"]);
    await s.report(ago(60_000), [listing(range(0, 250))]);
    expect((await deliveries(digest.id)).map((d) => d.event_type)).toEqual(["violations.changed"]);
    expect(await deliveries(each.id)).toHaveLength(250);
    await drain();
    const got = digest.receiver.received[0]!;
    expect(digest.receiver.received).toHaveLength(1);
    expect(got.verified).toBe(true);
    const data = got.body.data as Record<string, any>;
    expect(data.counts).toEqual({ opened: 250, resolved: 0, updated: 0 });
    expect(data.opened).toHaveLength(DIGEST_LIMIT);
    expect([data.resolved, data.updated, data.truncated]).toEqual([[], [], true]);
    expect(data.environment).toEqual({ id: s.env.id, name: "prod" });
    // The link pages through everything the report changed, the listed ones included.
    const more = new URL(data.more);
    expect(more.pathname).toBe("/v1/violations");
    const viewer = await api.token("dg-one", "viewer");
    const all: string[] = [];
    for (let page = `${more.pathname}${more.search}&limit=100`; page; ) {
      const body = await json<ResponseBodyOf<typeof routes.violations.list>>(await api.request("GET", page, { token: viewer }));
      all.push(...body.items.map((v: { id: string }) => v.id));
      page = body.nextCursor ? `${more.pathname}${more.search}&limit=100&cursor=${body.nextCursor}` : "";
    }
    expect(new Set(all).size).toBe(250);
    expect(data.opened.every((v: { id: string }) => all.includes(v.id))).toBe(true);
    expect(each.receiver.processed().size).toBe(250);
    expect(each.receiver.received.every((r) => r.verified && r.body.type === "violation.opened")).toBe(true);

    // Next report: 50 gone, 10 now warn, 20 new.
    await s.report(ago(30_000), [listing(range(50, 270), {}, (i) => (i < 60 ? "warn" : "deny"))]);
    await drain();
    expect(digest.receiver.received).toHaveLength(2);
    const second = digest.receiver.received[1]!.body.data as Record<string, any>;
    expect(second.counts).toEqual({ opened: 20, resolved: 50, updated: 10 });
    expect([second.opened.length, second.resolved.length, second.updated.length, second.truncated, second.more]).toEqual([20, 50, 10, false, null]);
    expect(second.updated.every((v: { enforcementAction: string }) => v.enforcementAction === "warn")).toBe(true);
    expect(each.receiver.processed().size).toBe(250 + 80);
  });

  it("filters by control and enforcement action, in both modes; an updated violation matches with its old values too", { timeout: 60_000 }, async () => {
    const s = await setup("dg-filter", [
      { controls: ["capabilities"] },
      { enforcementActions: ["deny"] },
      { deliveryMode: "per-violation", controls: ["capabilities"], enforcementActions: ["warn"] },
      { environmentIds: [(await createEnvironment(api, "dg-filter", { name: "other" })).id] },
    ]);
    const [byControl, byAction, perViolation, otherEnv] = s.eps;
    await s.report(ago(60_000), [listing(range(0, 3)), listing(range(0, 4), capabilities, () => "warn")]);
    await drain();
    const first = (r: Receiver) => r.received[0]!.body.data as Record<string, any>;
    expect(first(byControl.receiver).counts).toEqual({ opened: 4, resolved: 0, updated: 0 });
    expect(first(byControl.receiver).opened.every((v: { control: string }) => v.control === "capabilities")).toBe(true);
    expect(first(byAction.receiver).counts).toEqual({ opened: 3, resolved: 0, updated: 0 });
    expect(perViolation.receiver.received.map((r) => r.body.type)).toEqual(Array(4).fill("violation.opened"));
    expect(otherEnv.receiver.received).toEqual([]);
    // capabilities switches from warn to deny: the warn-only endpoint hears of it (it was warn).
    await s.report(ago(30_000), [listing(range(0, 3)), listing(range(0, 4), { ...capabilities, enforcementAction: "deny" }, () => "deny")]);
    await drain();
    expect(perViolation.receiver.received.slice(4).map((r) => [r.body.type, (r.body.data as any).previous.enforcementAction])).toEqual(
      Array(4).fill(["violation.updated", "warn"]),
    );
    expect((byAction.receiver.received[1]!.body.data as any).counts).toEqual({ opened: 0, resolved: 0, updated: 4 });
    expect(otherEnv.receiver.received).toEqual([]);
  });

  it("a 10,000-violation report: one delivery per digest endpoint (at most 10 required)", { timeout: 240_000 }, async () => {
    api.config.ingest = { chunkSize: 2000 };
    const s = await setup("dg-10k", [{}, { controls: ["privileged-containers"] }]);
    await s.report(
      ago(60_000),
      Array.from({ length: 10 }, (_, c) => listing(range(c * 1000, (c + 1) * 1000), { name: `privileged-${c}` })),
    );
    for (const ep of s.eps) {
      const d = await deliveries(ep.id);
      expect(d.length).toBeLessThanOrEqual(10);
      expect(d.map((x) => [x.event_type, x.payload.data.counts.opened])).toEqual([["violations.changed", 10_000]]);
    }
  });

  it("rate limit: the dispatcher holds an endpoint's deliveries back, in order, and drops none", { timeout: 60_000 }, async () => {
    const s = await setup("dg-rate", [{ deliveryMode: "per-violation", rateLimitPerSecond: 2 }, { deliveryMode: "per-violation" }]);
    const [limited, free] = s.eps;
    expect(limited.rateLimitPerSecond).toBe(2);
    await s.report(ago(60_000), [listing(range(0, 5))]);
    let t = Date.now() + 1000;
    const clock = () => new Date(t);
    // One pass at a fixed instant: the unlimited endpoint gets all 5, the limited one 1.
    await drain(clock);
    expect([limited.receiver.received.length, free.receiver.received.length]).toEqual([1, 5]);
    expect(await drain(clock)).toBe(0);
    // Every half second (2 per second) the next one, none lost.
    for (let n = 2; n <= 5; n++) {
      t += 500;
      await drain(clock);
      expect(limited.receiver.received).toHaveLength(n);
    }
    const queued = (await deliveries(limited.id)).map((d) => d.id);
    expect(limited.receiver.received.map((r) => r.id)).toEqual(queued);
    expect((await deliveries(limited.id)).every((d) => d.state === "succeeded")).toBe(true);
  });

  it("Slack format: an incoming-webhook message {text, blocks}, still signed, at 1 per second unless told otherwise", { timeout: 60_000 }, async () => {
    const s = await setup("dg-slack", [{ format: "slack" }]);
    const [slack] = s.eps;
    expect([slack.format, slack.deliveryMode, slack.rateLimitPerSecond]).toEqual(["slack", "digest", 1]);
    await s.report(ago(60_000), [listing(range(0, 30))]);
    await drain();
    const got = slack.receiver.received[0]!;
    expect(got.verified).toBe(true);
    const body = got.body as unknown as { text: string; blocks: { type: string }[] };
    expect(Object.keys(body).sort()).toEqual(["blocks", "text"]);
    expect(body.text).toContain("prod: 30 opened");
    expect(body.blocks.length).toBeGreaterThan(1);
    expect(JSON.stringify(body.blocks)).toContain("20 more");
  });
});
