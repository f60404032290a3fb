// The webhook dispatcher: sends what the outbox (webhook_deliveries) holds.
//
// One pass (`runOnce`): (1) sweep for agents gone offline and queue environment.offline once per
// outage; (2) claim due deliveries — `FOR UPDATE SKIP LOCKED`, so two dispatchers never claim
// the same row, and a claim is a lease (`lease_until`) plus the attempt number, so a dispatcher
// that dies mid-send leaves a row that is claimed again when the lease runs out, as the next
// attempt; (3) send each, signed per Standard Webhooks (webhook-id = the delivery id, the same on
// every attempt, so receivers deduplicate on it); (4) record the attempt (status, latency,
// error) and either finish the delivery or schedule the next attempt. Recording is fenced on the
// attempt number: a dispatcher whose lease expired cannot overwrite its successor's outcome.
//
// Retries (after attempt n fails, the next comes this long after): 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 10 h — 8 attempts over about 27.6 hours; then the delivery is `failed` (redeliver by
// hand). An endpoint with FAILING_AFTER consecutive failed attempts is marked failing
// (`failingSince`) until one succeeds; it keeps receiving. (5) Finished deliveries, with their
// attempt log, are deleted WEBHOOK_RETENTION_DAYS after they finished.
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { Webhook } from "standardwebhooks";
import type { WebhookConfig } from "../app/config.ts";
import type { Database } from "../db/client.ts";
import { OFFLINE_AFTER_INTERVALS } from "../protocol/agent.ts";
import { checkWebhookUrl } from "./webhook-url.ts";
import { endpointMatches, isoJson, PAYLOAD_VERSION } from "./webhook-outbox.ts";

/** Delay before attempt n+1, indexed by n-1 (n = attempts made so far). */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const FAILING_AFTER = 5;
/** Deleted at most per pass, so a pass after a long pause stays short; the next pass goes on. */
export const PRUNE_BATCH = 1000;

export interface DispatcherOptions {
  db: Database;
  config: WebhookConfig;
  /** Scheduling clock (injectable: tests drive retries with it). */
  now?: () => Date;
  /** The clock of the webhook-timestamp header; receivers check it against theirs. */
  signingNow?: () => Date;
  fetch?: typeof fetch;
  resolve?: (hostname: string) => Promise<string[]>;
  /** Agents' poll interval: an environment is offline after OFFLINE_AFTER_INTERVALS of them. */
  pollIntervalSeconds: number;
  /** How long a claim holds (default: the timeout + 30 s). */
  leaseMs?: number;
  batchSize?: number;
  concurrency?: number;
  logger?: Logger;
}

export interface PassResult {
  offline: number;
  claimed: number;
  succeeded: number;
  failed: number;
  /** Finished deliveries deleted for being older than WEBHOOK_RETENTION_DAYS. */
  pruned: number;
}

type Claimed = {
  id: string;
  tenant_id: string;
  endpoint_id: string;
  payload: { type: string; version: number; timestamp: string; data: unknown };
  attempts: number;
  url: string;
  secret: string;
};

export interface Dispatcher {
  runOnce(): Promise<PassResult>;
  /** Run a pass every intervalMs (passes never overlap) until stop(). */
  start(intervalMs: number): void;
  /** Stop the interval and wait for a running pass to finish. */
  stop(): Promise<void>;
}

export function createDispatcher(o: DispatcherOptions): Dispatcher {
  const now = o.now ?? (() => new Date());
  const signingNow = o.signingNow ?? (() => new Date());
  const doFetch = o.fetch ?? globalThis.fetch;
  const leaseMs = o.leaseMs ?? o.config.timeoutMs + 30_000;
  const batchSize = o.batchSize ?? 100;
  const concurrency = o.concurrency ?? 8;
  const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

  async function sweepOffline(at: Date): Promise<number> {
    const cutoff = new Date(at.getTime() - OFFLINE_AFTER_INTERVALS * o.pollIntervalSeconds * 1000);
    const { rows } = await o.db.asSystem((tx) =>
      tx.execute<{ n: number }>(sql`
        with gone as (
          insert into offline_notices as n (environment_id, tenant_id, last_seen_at)
          select s.environment_id, s.tenant_id, s.last_seen_at from agent_status s where s.last_seen_at < ${ts(cutoff)}
          on conflict (environment_id) do update set last_seen_at = excluded.last_seen_at
            where n.last_seen_at <> excluded.last_seen_at
          returning n.environment_id, n.tenant_id, n.last_seen_at
        ),
        q as (
          insert into webhook_deliveries (tenant_id, endpoint_id, event_type, payload, next_attempt_at, created_at)
          select e.tenant_id, e.id, 'environment.offline',
                 jsonb_build_object('type', 'environment.offline', 'version', ${PAYLOAD_VERSION}::int, 'timestamp', ${isoJson(ts(at))},
                   'data', jsonb_build_object('environment', jsonb_build_object('id', env.id, 'name', env.name), 'lastSeenAt', ${isoJson(sql`g.last_seen_at`)})),
                 ${ts(at)}, ${ts(at)}
          from gone g
          join environments env on env.id = g.environment_id and env.tenant_id = g.tenant_id
          join webhook_endpoints e on e.tenant_id = g.tenant_id and ${endpointMatches("environment.offline", sql`g.environment_id`)}
          returning 1
        )
        select (select count(*)::int from gone) as n, (select count(*) from q) as queued`),
    );
    return rows[0]?.n ?? 0;
  }

  /** Delete finished deliveries (attempts cascade) older than the retention, a bounded batch a pass. */
  async function prune(at: Date): Promise<number> {
    const cutoff = new Date(at.getTime() - o.config.retentionDays * 86_400_000);
    const { rows } = await o.db.asSystem((tx) =>
      tx.execute<{ n: number }>(sql`
        with old as (
          select id from webhook_deliveries
          where state <> 'pending' and completed_at < ${ts(cutoff)}
          order by completed_at limit ${PRUNE_BATCH}
          for update skip locked
        ),
        gone as (delete from webhook_deliveries d using old where d.id = old.id returning 1)
        select count(*)::int as n from gone`),
    );
    return rows[0]?.n ?? 0;
  }

  async function claim(at: Date): Promise<Claimed[]> {
    const { rows } = await o.db.asSystem((tx) =>
      tx.execute<Claimed>(sql`
        with due as (
          select d.id from webhook_deliveries d
          where d.state = 'pending' and d.next_attempt_at <= ${ts(at)} and (d.lease_until is null or d.lease_until <= ${ts(at)})
            and exists (select 1 from webhook_endpoints e where e.id = d.endpoint_id and e.enabled)
          order by d.next_attempt_at, d.id
          limit ${batchSize}
          for update of d skip locked
        )
        update webhook_deliveries d set lease_until = ${ts(new Date(at.getTime() + leaseMs))}, attempts = d.attempts + 1
        from due, webhook_endpoints e
        where d.id = due.id and e.id = d.endpoint_id
        returning d.id, d.tenant_id, d.endpoint_id, d.payload, d.attempts, e.url, e.secret`),
    );
    return rows;
  }

  async function send(d: Claimed): Promise<{ status: number | null; error: string | null; latencyMs: number }> {
    const start = performance.now();
    const refused = await checkWebhookUrl(d.url, { allowHttp: o.config.allowHttp, allowPrivate: o.config.allowPrivate, resolve: o.resolve });
    if (refused) return { status: null, error: `URL refused: ${refused}`, latencyMs: 0 };
    const { type, version, timestamp, data } = d.payload;
    const body = JSON.stringify({ type, version, timestamp, data });
    const sentAt = signingNow();
    try {
      const signature = new Webhook(d.secret).sign(d.id, sentAt, body);
      const res = await doFetch(d.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "Gatehouse-Webhooks/1",
          "webhook-id": d.id,
          "webhook-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(o.config.timeoutMs),
      });
      // The body is not needed; drain it so the connection can be reused.
      await res.arrayBuffer().catch(() => {});
      const ok = res.status >= 200 && res.status < 300;
      return { status: res.status, error: ok ? null : `HTTP ${res.status}`, latencyMs: Math.round(performance.now() - start) };
    } catch (err) {
      const e = err as Error;
      const error = e.name === "TimeoutError" ? `timed out after ${o.config.timeoutMs} ms` : `${e.message}${(e.cause as Error | undefined)?.message ? `: ${(e.cause as Error).message}` : ""}`;
      return { status: null, error: error.slice(0, 1000), latencyMs: Math.round(performance.now() - start) };
    }
  }

  async function record(d: Claimed, r: { status: number | null; error: string | null; latencyMs: number }, at: Date): Promise<boolean> {
    const ok = r.error === null;
    const delay = RETRY_DELAYS_MS[d.attempts - 1];
    const exhausted = !ok && (delay === undefined || d.attempts >= MAX_ATTEMPTS);
    const state = ok ? "succeeded" : exhausted ? "failed" : "pending";
    const next = ok || exhausted ? at : new Date(at.getTime() + delay!);
    return o.db.asSystem(async (tx) => {
      await tx.execute(sql`
        insert into webhook_attempts (tenant_id, delivery_id, attempt, at, status_code, latency_ms, error)
        values (${d.tenant_id}::uuid, ${d.id}::uuid, ${d.attempts}::int, ${ts(at)}, ${r.status}::int, ${r.latencyMs}::int, ${r.error})
        on conflict (delivery_id, attempt) do nothing`);
      const { rows } = await tx.execute(sql`
        update webhook_deliveries set state = ${state}, lease_until = null, next_attempt_at = ${ts(next)},
          last_status = ${r.status}::int, last_error = ${r.error}, completed_at = ${state === "pending" ? null : at.toISOString()}::timestamptz
        where id = ${d.id}::uuid and attempts = ${d.attempts}::int and state = 'pending'
        returning 1`);
      if (!rows.length) return false; // fenced: someone else owns this delivery now
      await tx.execute(
        ok
          ? sql`update webhook_endpoints set consecutive_failures = 0, failing_since = null where id = ${d.endpoint_id}::uuid`
          : sql`update webhook_endpoints set consecutive_failures = consecutive_failures + 1,
                  failing_since = case when consecutive_failures + 1 >= ${FAILING_AFTER}::int then coalesce(failing_since, ${ts(at)}) else failing_since end
                where id = ${d.endpoint_id}::uuid`,
      );
      return true;
    });
  }

  async function runOnce(): Promise<PassResult> {
    const at = now();
    const offline = await sweepOffline(at);
    const claimed = await claim(at);
    let succeeded = 0;
    let failed = 0;
    const queue = [...claimed];
    const worker = async () => {
      for (let d = queue.shift(); d; d = queue.shift()) {
        const r = await send(d);
        try {
          await record(d, r, now());
        } catch (err) {
          o.logger?.error({ err, delivery: d.id }, "webhook: recording an attempt failed (the lease will expire and it is retried)");
        }
        if (r.error === null) succeeded++;
        else {
          failed++;
          o.logger?.warn({ delivery: d.id, endpoint: d.endpoint_id, attempt: d.attempts, status: r.status, error: r.error }, "webhook delivery attempt failed");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    const pruned = await prune(now());
    return { offline, claimed: claimed.length, succeeded, failed, pruned };
  }

  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  return {
    runOnce,
    start(intervalMs) {
      stopped = false;
      const tick = () => {
        running = runOnce()
          .catch((err: unknown) => o.logger?.error({ err }, "webhook dispatcher pass failed"))
          .finally(() => {
            running = undefined;
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
