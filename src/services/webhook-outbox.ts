// The transactional outbox of webhook deliveries. Whatever makes an event (an audit report
// opening or resolving violations, an agent applying a revision, the dispatcher noticing an
// agent gone quiet) calls these inside its own transaction, so an event is queued if and only if
// the change that caused it commits. One row per event and matching endpoint; the row's id is
// the `webhook-id` every attempt carries. Events with an ordering key (one violation's, one
// environment's liveness) reach each endpoint in the order they were queued: the dispatcher
// sends one only when no earlier one with its key is pending for that endpoint.
import { sql, type SQL } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { WebhookEventType } from "../db/schema.ts";

/** Payloads are versioned; a breaking change to a `data` shape bumps it. */
export const PAYLOAD_VERSION = 1;

/** An ISO-8601 UTC timestamp with milliseconds, as JSON, of a timestamptz expression. */
export const isoJson = (expr: SQL | string) =>
  sql`to_char((${typeof expr === "string" ? sql.raw(expr) : expr}) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Endpoints of the tenant that want `type` for this environment (SQL condition over alias e). */
export function endpointMatches(type: WebhookEventType, environmentId: SQL): SQL {
  return sql`e.enabled and e.events @> ${JSON.stringify([type])}::jsonb
    and (e.environment_ids is null or e.environment_ids @> jsonb_build_array(${environmentId}::text))`;
}

/** Queue one event for every matching endpoint of the tenant. Returns how many deliveries were queued. */
export async function enqueueEvent(
  tx: Db,
  ev: { tenantId: string; environmentId: string | null; type: WebhookEventType; timestamp: Date; data: unknown; now: Date; orderingKey?: string },
): Promise<number> {
  const payload = JSON.stringify({ type: ev.type, version: PAYLOAD_VERSION, timestamp: ev.timestamp.toISOString(), data: ev.data });
  const envCond =
    ev.environmentId === null ? sql`e.enabled and e.events @> ${JSON.stringify([ev.type])}::jsonb` : endpointMatches(ev.type, sql`${ev.environmentId}`);
  const { rows } = await tx.execute<{ n: number }>(sql`
    with q as (
      insert into webhook_deliveries (tenant_id, endpoint_id, event_type, ordering_key, payload, next_attempt_at, created_at)
      select e.tenant_id, e.id, ${ev.type}, ${ev.orderingKey ?? null}::text, ${payload}::jsonb, ${ev.now.toISOString()}::timestamptz, ${ev.now.toISOString()}::timestamptz
      from webhook_endpoints e
      where e.tenant_id = ${ev.tenantId}::uuid and ${envCond}
      returning 1)
    select count(*)::int as n from q`);
  return rows[0]?.n ?? 0;
}
