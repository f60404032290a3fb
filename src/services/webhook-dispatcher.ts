// The webhook dispatcher: sends what the outbox (webhook_deliveries) holds.
//
// One pass (`runOnce`): (1) the offline sweep (webhook-liveness.ts: environment.offline once per
// outage, never counting time the API itself was down); (2) up to `concurrency` workers, each
// claiming ONE due delivery, sending it and recording the outcome, then the next. A claim is a
// lease (`lease_until`) plus the attempt number, taken with `FOR UPDATE SKIP LOCKED`, so two
// dispatchers never claim the same row; claiming only what is about to be sent means no claimed
// row waits in memory while its lease runs out (a batch claimed up front did, and another
// instance then sent it again). A dispatcher that dies mid-send leaves a row that is claimed
// again when the lease runs out, as the next attempt. (3) Each is signed per Standard Webhooks
// (webhook-send.ts; webhook-id = the delivery id, the same on every attempt, so receivers
// deduplicate on it). (4) The attempt is recorded (status, latency, error) and the delivery
// finished or scheduled again, fenced on the attempt number: a dispatcher whose lease expired
// cannot overwrite its successor's outcome.
//
// Order: deliveries of one endpoint with the same ordering key (one violation's events, one
// environment's offline/online) are claimed in queue order: one waits while an earlier one is
// pending (retrying included), so a resolved never overtakes its opened. An endpoint's rate limit
// (rate_limit_per_second) holds its deliveries back in the queue, never drops them (see claim).
//
// Retries (after attempt n fails, the next comes this long after): 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 10 h — 8 attempts over about 27.6 hours; then the delivery is `failed` (redeliver by
// hand). An endpoint with FAILING_AFTER consecutive failed attempts is marked failing
// (`failingSince`) until one succeeds; it keeps receiving. When an endpoint that was failing
// answers 2xx again, its pending retries are made due at once instead of waiting out the
// schedule. (5) Finished deliveries, with their attempt log, are deleted WEBHOOK_RETENTION_DAYS
// after they finished.
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { WebhookConfig } from "../app/config.ts";
import type { Database } from "../db/client.ts";
import type { WebhookFormat } from "../db/schema.ts";
import { intervalLoop } from "../lib/interval-loop.ts";
import { notePass, sweepOffline } from "./webhook-liveness.ts";
import { sendWebhook, type Outcome } from "./webhook-send.ts";

/** Delay before attempt n+1, indexed by n-1 (n = attempts made so far). */
export const RETRY_DELAYS_MS = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;
export const FAILING_AFTER = 5;
/** Consecutive failed attempts after which a success brings the endpoint's pending retries forward. */
export const RECOVER_AFTER = 2;
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
  /** Deliveries sent at most per pass. */
  batchSize?: number;
  /** Deliveries in flight at once. */
  concurrency?: number;
  /**
   * A gap between passes longer than this means the API was down (agents could not report), so
   * the offline sweep starts counting again. Default: 3 dispatch intervals or 1 poll interval,
   * whichever is longer; a scheduler with a coarser cadence (a Cron Trigger) passes its own.
   */
  apiDownAfterMs?: number;
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
  /** The secret before the last rotation, while its overlap lasts. */
  previous_secret: string | null;
  format: WebhookFormat;
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
  const apiDownAfterMs = o.apiDownAfterMs ?? Math.max(3 * o.config.dispatchIntervalMs, o.pollIntervalSeconds * 1000);
  const sendOptions = { config: o.config, fetch: doFetch, resolve: o.resolve, signingNow };
  const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

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

  /**
   * Claim one due delivery (or none): only what is sent now, so no claim waits out its lease.
   * An endpoint with a rate limit is skipped while its gate (next_send_at) is in the future, and
   * a claim moves the gate one interval on: its deliveries wait in the queue, in their order, and
   * none is dropped. The gate is moved by an UPDATE that re-checks it under the endpoint's row
   * lock, so two dispatchers cannot both take the same slot (the loser claims nothing this time).
   */
  async function claim(at: Date): Promise<Claimed | undefined> {
    const { rows } = await o.db.asSystem((tx) =>
      tx.execute<Claimed>(sql`
        with due as (
          select d.id, d.endpoint_id, e.rate_limit_per_second as rate from webhook_deliveries d
          join webhook_endpoints e on e.id = d.endpoint_id
          where d.state = 'pending' and d.next_attempt_at <= ${ts(at)} and (d.lease_until is null or d.lease_until <= ${ts(at)})
            and e.enabled and (e.rate_limit_per_second is null or e.next_send_at is null or e.next_send_at <= ${ts(at)})
            and (d.ordering_key is null or not exists (
              select 1 from webhook_deliveries p
              where p.endpoint_id = d.endpoint_id and p.ordering_key = d.ordering_key and p.state = 'pending' and p.seq < d.seq))
          order by d.next_attempt_at, d.seq
          limit 1
          for update of d skip locked
        ),
        gate as (
          update webhook_endpoints e
          set next_send_at = greatest(coalesce(e.next_send_at, ${ts(at)}), ${ts(at)}) + make_interval(secs => 1.0 / e.rate_limit_per_second)
          from due
          where e.id = due.endpoint_id and due.rate is not null and (e.next_send_at is null or e.next_send_at <= ${ts(at)})
          returning e.id
        )
        update webhook_deliveries d set lease_until = ${ts(new Date(at.getTime() + leaseMs))}, attempts = d.attempts + 1
        from due, webhook_endpoints e
        where d.id = due.id and e.id = d.endpoint_id and (due.rate is null or exists (select 1 from gate))
        returning d.id, d.tenant_id, d.endpoint_id, d.payload, d.attempts, e.url, e.secret, e.format,
                  case when e.previous_secret_until > ${ts(at)} then e.previous_secret end as previous_secret`),
    );
    return rows[0];
  }

  /** `sentAt`: when the attempt started (a failure recorded after it says nothing about this answer). */
  async function record(d: Claimed, r: Outcome, at: Date, sentAt: Date): Promise<boolean> {
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
          ? // Answering again after RECOVER_AFTER or more failures in a row (the endpoint was down,
            // not one delivery refused): the retries of what failed before this attempt started are
            // due now, not on their schedule. (The CTE sees consecutive_failures as it was before
            // this statement resets it.) One bad delivery beside good ones keeps its schedule.
            sql`with back as (
                  update webhook_deliveries q set next_attempt_at = ${ts(at)}
                  from webhook_endpoints e
                  where e.id = ${d.endpoint_id}::uuid and e.consecutive_failures >= ${RECOVER_AFTER}::int and q.endpoint_id = e.id
                    and q.state = 'pending' and q.next_attempt_at > ${ts(at)} and (q.lease_until is null or q.lease_until <= ${ts(at)})
                    and exists (select 1 from webhook_attempts a where a.delivery_id = q.id and a.attempt = q.attempts and a.at < ${ts(sentAt)})
                  returning 1)
                update webhook_endpoints set consecutive_failures = 0, failing_since = null where id = ${d.endpoint_id}::uuid`
          : sql`update webhook_endpoints set consecutive_failures = consecutive_failures + 1,
                  failing_since = case when consecutive_failures + 1 >= ${FAILING_AFTER}::int then coalesce(failing_since, ${ts(at)}) else failing_since end
                where id = ${d.endpoint_id}::uuid`,
      );
      return true;
    });
  }

  async function runOnce(): Promise<PassResult> {
    const offline = await sweepOffline(o.db, { at: now(), pollIntervalSeconds: o.pollIntervalSeconds, downAfterMs: apiDownAfterMs });
    let claimed = 0;
    let succeeded = 0;
    let failed = 0;
    // Senders start one by one, each once the one before found work, so a pass with little
    // to send makes one empty claim, not `concurrency` of them.
    const senders: Promise<void>[] = [];
    const worker = async () => {
      // Counted before the claim, so the senders together never exceed batchSize.
      while (claimed < batchSize) {
        claimed++;
        const d = await claim(now());
        if (!d) {
          claimed--;
          return;
        }
        if (senders.length < concurrency) senders.push(worker());
        const secrets = d.previous_secret ? [d.secret, d.previous_secret] : [d.secret];
        const sentAt = now();
        const r = await sendWebhook({ id: d.id, url: d.url, payload: d.payload, secrets, format: d.format }, sendOptions);
        try {
          await record(d, r, now(), sentAt);
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
    senders.push(worker());
    for (let i = 0; i < senders.length; i++) await senders[i];
    const pruned = await prune(now());
    await notePass(o.db, now());
    return { offline, claimed, succeeded, failed, pruned };
  }

  const loop = intervalLoop(runOnce, (err) => o.logger?.error({ err }, "webhook dispatcher pass failed"));
  return { runOnce, start: loop.start, stop: loop.stop };
}
