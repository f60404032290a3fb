// The webhook events an audit report's ingest queues (src/services/violations.ts), by each
// endpoint's delivery mode:
//   - per-violation: one violation.opened / .resolved / .updated per violation, queued by the
//     statement that made the change (queuePerViolation), ordered per violation;
//   - digest: one violations.changed per report and endpoint, queued when the report's ingest
//     finishes (queueDigests), built from the history itself — the violations whose changed_at is
//     the report's collectedAt — so a report ingested in several transactions, or resumed after a
//     crash, still makes exactly one digest with everything it changed. A digest lists up to
//     DIGEST_LIMIT violations of each kind and links to the list route for the rest.
// Both honour the endpoint's filters (controls, enforcement actions) and its subscribed events.
import { type SQL, sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import { executePrepared } from "../db/prepared.ts";
import { endpointMatches, isoJson, PAYLOAD_VERSION } from "./webhook-outbox.ts";
import { violationJson } from "./violations.ts";

/** Violations of each kind (opened, resolved, updated) a digest carries; the rest are behind `more`. */
export const DIGEST_LIMIT = 100;

type ViolationEvent = "violation.opened" | "violation.resolved" | "violation.updated";

/** The endpoint's (alias e) filters over a violation's control and enforcement action (SQL expressions). */
export function filtersMatch(control: SQL, enforcementAction: SQL): SQL {
  return sql`(e.controls is null or e.controls @> jsonb_build_array(${control}))
    and (e.enforcement_actions is null or e.enforcement_actions @> jsonb_build_array(${enforcementAction}))`;
}

/**
 * Queue `type` for every matching per-violation endpoint, one delivery per violation in CTE
 * `from` (alias v), with `extraData` (", 'key', value" pairs) added to `data`. Payloads are built
 * only for matching endpoints: with none, no JSON is made at all. An updated violation matches the
 * filters with what it shows now or with what it showed before (so a filter on deny hears of a
 * violation that moved from deny to warn).
 */
export function queuePerViolation(
  ids: { tenant: SQL; env: SQL; environmentId: string; at: SQL; now: SQL },
  type: ViolationEvent,
  from: string,
  extraData: SQL = sql``,
): SQL {
  const filters =
    type === "violation.updated"
      ? sql`(${filtersMatch(sql`v.control`, sql`v.enforcement_action`)} or ${filtersMatch(sql`v.was_ctl`, sql`v.was_ea`)})`
      : filtersMatch(sql`v.control`, sql`v.enforcement_action`);
  // Ordered per violation: an endpoint gets its opened, updated and resolved in that order.
  return sql`
    insert into webhook_deliveries (tenant_id, endpoint_id, event_type, ordering_key, payload, next_attempt_at, created_at)
    select e.tenant_id, e.id, ${type}, 'violation:' || v.id::text,
           jsonb_build_object('type', ${type}::text, 'version', ${PAYLOAD_VERSION}::int, 'timestamp', ${isoJson(ids.at)},
                              'data', jsonb_build_object('violation', ${violationJson}, 'environment', jsonb_build_object('id', env.id, 'name', env.name)${extraData})),
           ${ids.now}, ${ids.now}
    from ${sql.raw(from)} v
    join environments env on env.id = ${ids.env} and env.tenant_id = ${ids.tenant}
    join webhook_endpoints e on e.tenant_id = ${ids.tenant} and e.delivery_mode = 'per-violation'
      and (${endpointMatches(type, sql`${ids.environmentId}`)} or ${endpointMatches("violations.changed", sql`${ids.environmentId}`)})
      and ${filters}`;
}

/**
 * One violations.changed per digest endpoint that subscribes to some kind of violation event for
 * this environment and has something to hear of after its filters. Returns how many were queued.
 * `linkBase`: the API's external origin ("" for a relative link).
 */
export async function queueDigests(
  tx: Db,
  ctx: { tenantId: string; environmentId: string; at: SQL; now: Date; linkBase: string; report: { collectedAt: string } },
): Promise<number> {
  const { tenantId, environmentId, at } = ctx;
  const collectedAt = new Date(ctx.report.collectedAt).toISOString();
  const more = `${ctx.linkBase}/v1/violations?environment=${environmentId}&changedAt=${encodeURIComponent(collectedAt)}`;
  // A kind counts for an endpoint that subscribes to its event (or to violations.changed, all three).
  const wants = (kind: string) => sql`(e.events @> ${JSON.stringify([`violation.${kind}`])}::jsonb or e.events @> '["violations.changed"]'::jsonb)`;
  const items = (kind: string) => sql`(select coalesce(jsonb_agg(x.j order by x.opened_at desc, x.id desc), '[]'::jsonb) from (
      select ${violationJson} as j, v.opened_at, v.id from ch v
      where v.kind = ${kind} and ${wants(kind)} and ${filtersMatch(sql`v.control`, sql`v.enforcement_action`)}
      order by v.opened_at desc, v.id desc limit ${DIGEST_LIMIT}) x)`;
  const count = (kind: string) => sql`(count(*) filter (where v.kind = ${kind} and ${wants(kind)}))::int`;
  const { rows } = await executePrepared<{ n: number }>(
    tx,
    sql`
    with ch as (
      select v.*, case when v.state = 'resolved' then 'resolved' when v.opened_at = ${at} then 'opened' else 'updated' end as kind
      from violations v
      where v.environment_id = ${environmentId}::uuid and v.tenant_id = ${tenantId}::uuid and v.changed_at = ${at}
    ),
    per_endpoint as (
      select e.id, e.tenant_id, c.opened, c.resolved, c.updated,
             ${items("opened")} as opened_items, ${items("resolved")} as resolved_items, ${items("updated")} as updated_items
      from webhook_endpoints e
      cross join lateral (
        select ${count("opened")} as opened, ${count("resolved")} as resolved, ${count("updated")} as updated
        from ch v where ${filtersMatch(sql`v.control`, sql`v.enforcement_action`)}
      ) c
      where e.tenant_id = ${tenantId}::uuid and e.delivery_mode = 'digest'
        and (${endpointMatches("violation.opened", sql`${environmentId}`)} or ${endpointMatches("violation.resolved", sql`${environmentId}`)}
             or ${endpointMatches("violation.updated", sql`${environmentId}`)} or ${endpointMatches("violations.changed", sql`${environmentId}`)})
        and c.opened + c.resolved + c.updated > 0
    ),
    q as (
      insert into webhook_deliveries (tenant_id, endpoint_id, event_type, ordering_key, payload, next_attempt_at, created_at)
      select p.tenant_id, p.id, 'violations.changed', 'violations:' || env.id::text,
             jsonb_build_object('type', 'violations.changed', 'version', ${PAYLOAD_VERSION}::int, 'timestamp', ${isoJson(at)},
               'data', jsonb_build_object(
                 'environment', jsonb_build_object('id', env.id, 'name', env.name),
                 'collectedAt', ${isoJson(at)},
                 'counts', jsonb_build_object('opened', p.opened, 'resolved', p.resolved, 'updated', p.updated),
                 'opened', p.opened_items, 'resolved', p.resolved_items, 'updated', p.updated_items,
                 'truncated', greatest(p.opened, p.resolved, p.updated) > ${DIGEST_LIMIT}::int,
                 'more', case when greatest(p.opened, p.resolved, p.updated) > ${DIGEST_LIMIT}::int then ${more}::text end)),
             ${ctx.now.toISOString()}::timestamptz, ${ctx.now.toISOString()}::timestamptz
      from per_endpoint p join environments env on env.id = ${environmentId}::uuid and env.tenant_id = ${tenantId}::uuid
      returning 1)
    select count(*)::int as n from q`,
  );
  return rows[0]?.n ?? 0;
}
