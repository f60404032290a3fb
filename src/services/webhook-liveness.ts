// environment.offline and environment.online: whether an environment's agent is reporting.
//
// The dispatcher's sweep (sweepOffline, every pass) declares an agent offline when its last
// heartbeat is older than OFFLINE_AFTER_INTERVALS poll intervals, once per outage
// (offline_notices). Time the API itself was down does not count: an agent cannot report to an
// API that is not there, so right after a restart every agent would look silent. The dispatcher
// records its own liveness (dispatcher_liveness: the last pass, and since when passes have run
// without a gap longer than `downAfterMs`), and nothing is declared offline until the API has
// been up for the whole threshold. The status route calls agentReported: an agent an offline
// event was sent for reporting again queues environment.online. Both events of one environment
// share an ordering key, so an endpoint gets them in order.
import { type SQL, sql } from "drizzle-orm";
import type { Database, Db } from "../db/client.ts";
import { OFFLINE_AFTER_INTERVALS } from "../protocol/agent.ts";
import { endpointMatches, enqueueEvent, isoJson, PAYLOAD_VERSION } from "./webhook-outbox.ts";

/** The ordering key of an environment's offline / online events. */
export const livenessKey = (environmentId: SQL) => sql`'environment:' || ${environmentId}::text`;

const ts = (d: Date) => sql`${d.toISOString()}::timestamptz`;

/**
 * Note a pass at `at` and queue environment.offline for agents silent for the threshold while
 * the API was up. Returns how many environments were declared offline.
 */
export async function sweepOffline(db: Database, o: { at: Date; pollIntervalSeconds: number; downAfterMs: number }): Promise<number> {
  const { at } = o;
  const cutoff = new Date(at.getTime() - OFFLINE_AFTER_INTERVALS * o.pollIntervalSeconds * 1000);
  return db.asSystem(async (tx) => {
    // One row for every instance (the row lock serialises their sweeps). A gap since the last
    // pass longer than downAfterMs means the API was down: "up" starts again now. A clock
    // behind the last pass (another instance's) is no gap.
    const { rows: live } = await tx.execute<{ up_since: string }>(sql`
      insert into dispatcher_liveness as l (id, last_pass_at, up_since) values (1, ${ts(at)}, ${ts(at)})
      on conflict (id) do update set
        up_since = case when excluded.last_pass_at - l.last_pass_at > make_interval(secs => ${o.downAfterMs / 1000}::float8)
                        then excluded.last_pass_at else l.up_since end,
        last_pass_at = greatest(l.last_pass_at, excluded.last_pass_at)
      returning up_since`);
    if (new Date(live[0]!.up_since) > cutoff) return 0;
    const { rows } = await tx.execute<{ n: number }>(sql`
      with gone as (
        insert into offline_notices as n (environment_id, tenant_id, last_seen_at)
        -- Locked (skipping a row a report is writing right now), so a report racing this sweep
        -- either waits for it, and then sees its notice (agentReported), or is not declared.
        select s.environment_id, s.tenant_id, s.last_seen_at from agent_status s where s.last_seen_at < ${ts(cutoff)}
        for update of s skip locked
        on conflict (environment_id) do update set last_seen_at = excluded.last_seen_at
          where n.last_seen_at <> excluded.last_seen_at
        returning n.environment_id, n.tenant_id, n.last_seen_at
      ),
      q as (
        insert into webhook_deliveries (tenant_id, endpoint_id, event_type, ordering_key, payload, next_attempt_at, created_at)
        select e.tenant_id, e.id, 'environment.offline', ${livenessKey(sql`g.environment_id`)},
               jsonb_build_object('type', 'environment.offline', 'version', ${PAYLOAD_VERSION}::int, 'timestamp', ${isoJson(ts(at))},
                 'data', jsonb_build_object('environment', jsonb_build_object('id', env.id, 'name', env.name), 'lastSeenAt', ${isoJson(sql`g.last_seen_at`)})),
               ${ts(at)}, ${ts(at)}
        from gone g
        join environments env on env.id = g.environment_id and env.tenant_id = g.tenant_id
        join webhook_endpoints e on e.tenant_id = g.tenant_id and ${endpointMatches("environment.offline", sql`g.environment_id`)}
        returning 1
      )
      select (select count(*)::int from gone) as n, (select count(*) from q) as queued`);
    return rows[0]?.n ?? 0;
  });
}

/** The end of a pass: the API was up until `at` (a long pass is no gap). */
export async function notePass(db: Database, at: Date): Promise<void> {
  await db.asSystem((tx) => tx.execute(sql`update dispatcher_liveness set last_pass_at = greatest(last_pass_at, ${ts(at)}) where id = 1`));
}

/**
 * An agent reported (in the status route's transaction, after its heartbeat is written). If an
 * offline event was sent for the silence this report ends (the notice names the heartbeat before
 * it), queue environment.online. Either way the notice goes: the next silence is a new outage.
 */
export async function agentReported(
  tx: Db,
  a: { tenantId: string; environmentId: string; environmentName: string; previousSeenAt: Date | null; now: Date },
): Promise<boolean> {
  const { rows } = await tx.execute<{ last_seen_at: string }>(sql`
    delete from offline_notices n where n.environment_id = ${a.environmentId}::uuid and n.tenant_id = ${a.tenantId}::uuid
    returning n.last_seen_at`);
  const notice = rows[0];
  if (!notice || !a.previousSeenAt || new Date(notice.last_seen_at).getTime() !== a.previousSeenAt.getTime()) return false;
  await enqueueEvent(tx, {
    tenantId: a.tenantId,
    environmentId: a.environmentId,
    type: "environment.online",
    orderingKey: `environment:${a.environmentId}`,
    timestamp: a.now,
    now: a.now,
    data: { environment: { id: a.environmentId, name: a.environmentName }, silentSince: a.previousSeenAt.toISOString(), lastSeenAt: a.now.toISOString() },
  });
  return true;
}
