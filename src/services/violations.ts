// Violation history: every audit report the agent sends is diffed, set-based, against what the
// environment already has, inside the transaction that stores the report.
//
// Identity: environment, constraint (kind, name), resource (group, kind, namespace, name) and the
// message, hashed (sha256 of their JSON array) into `fingerprint`, unique per environment.
// Lifecycle, with every time the report's collectedAt (the cluster's view, not our receipt):
//   - first seen → a row, state open (first_seen_at = opened_at = last_seen_at), event "opened";
//   - seen again while open → last_seen_at moves; nothing else;
//   - absent from a later report → resolved (resolved_at), event "resolved". Only what the report
//     could see resolves: a constraint reported `truncated` (Gatekeeper lists at most
//     --constraint-violations-limit) or not yet audited (auditTimestamp null) resolves nothing;
//     a constraint absent from the report (pruned, disabled) resolves all of its violations;
//   - seen again after it was resolved → the same row reopens (same id, opened_at = now's report,
//     resolved_at cleared, occurrences + 1) and a new "opened" event, so the row is the identity
//     and violation_events is every occurrence.
// The same report twice changes nothing: rows already seen at that collectedAt are not touched.
// The route ingests only reports it stored, so a late retry of an older one changes nothing either.
import { sql } from "drizzle-orm";
import type { Db } from "../db/client.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { endpointMatches, isoJson, PAYLOAD_VERSION } from "./webhook-outbox.ts";

export interface IngestResult {
  /** Violations listed in the report (distinct identities). */
  seen: number;
  /** Opened by this report, first time or again. */
  opened: number;
  resolved: number;
  /** Webhook deliveries queued. */
  queued: number;
}

/** The API and webhook JSON of a violation row aliased `v` (environment name from alias `env`). */
export const violationJson = sql.raw(`jsonb_build_object(
  'id', v.id, 'environmentId', v.environment_id,
  'constraint', jsonb_build_object('kind', v.constraint_kind, 'name', v.constraint_name),
  'control', v.control, 'enforcementAction', v.enforcement_action,
  'resource', jsonb_build_object('group', v.resource_group, 'version', v.resource_version, 'kind', v.resource_kind, 'namespace', v.namespace, 'name', v.name),
  'message', v.message, 'state', v.state,
  'firstSeenAt', to_char(v.first_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'openedAt', to_char(v.opened_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'lastSeenAt', to_char(v.last_seen_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'resolvedAt', to_char(v.resolved_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'occurrences', v.occurrences)`);

type Row = [ck: string, cn: string, ctl: string | null, ea: string, g: string, ver: string, k: string, ns: string, n: string, m: string];

export async function ingestAuditReport(
  tx: Db,
  args: { tenantId: string; environmentId: string; report: AuditReport; now: Date },
): Promise<IngestResult> {
  const { tenantId, environmentId, report, now } = args;
  const at = new Date(report.collectedAt);
  const atSql = sql`${at.toISOString()}::timestamptz`;
  const nowSql = sql`${now.toISOString()}::timestamptz`;
  const tenant = sql`${tenantId}::uuid`;
  const env = sql`${environmentId}::uuid`;
  // Positional arrays: a 10,000-violation report is one ~3 MB parameter, unpacked in SQL.
  const rows: Row[] = [];
  const blind: [string, string][] = [];
  for (const k of report.constraints) {
    if (k.truncated || k.auditTimestamp === null) blind.push([k.kind, k.name]);
    for (const v of k.violations) rows.push([k.kind, k.name, k.control, v.enforcementAction || k.enforcementAction, v.group, v.version, v.kind, v.namespace, v.name, v.message]);
  }
  const opened = (type: "violation.opened" | "violation.resolved") => sql`
    insert into webhook_deliveries (tenant_id, endpoint_id, event_type, payload, next_attempt_at, created_at)
    select e.tenant_id, e.id, ${type},
           jsonb_build_object('type', ${type}::text, 'version', ${PAYLOAD_VERSION}::int, 'timestamp', ${isoJson(atSql)},
                              'data', jsonb_build_object('violation', x.j, 'environment', jsonb_build_object('id', env.id, 'name', env.name))),
           ${nowSql}, ${nowSql}
    from changed x
    join environments env on env.id = ${env} and env.tenant_id = ${tenant}
    join webhook_endpoints e on e.tenant_id = ${tenant} and ${endpointMatches(type, sql`${environmentId}`)}`;

  const first = await tx.execute<{ seen: number; opened: number; queued: number }>(sql`
    with input as (
      select distinct on (h.fp) h.fp, r->>0 as ck, r->>1 as cn, r->>2 as ctl, r->>3 as ea, r->>4 as g, r->>5 as ver,
             r->>6 as k, r->>7 as ns, r->>8 as n, r->>9 as m
      from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) as r
      cross join lateral (select encode(sha256(convert_to(jsonb_build_array(${environmentId}::text, r->0, r->1, r->4, r->6, r->7, r->8, r->9)::text, 'UTF8')), 'hex') as fp) h
      order by h.fp
    ),
    up as (
      insert into violations as v (tenant_id, environment_id, fingerprint, constraint_kind, constraint_name, control, enforcement_action,
                                   resource_group, resource_version, resource_kind, namespace, name, message, state, first_seen_at, opened_at, last_seen_at)
      select ${tenant}, ${env}, fp, ck, cn, ctl, ea, g, ver, k, ns, n, m, 'open', ${atSql}, ${atSql}, ${atSql} from input
      on conflict (environment_id, fingerprint) do update set
        last_seen_at = excluded.last_seen_at,
        control = excluded.control,
        enforcement_action = excluded.enforcement_action,
        resource_version = excluded.resource_version,
        state = 'open',
        resolved_at = null,
        opened_at = case when v.state = 'resolved' then excluded.opened_at else v.opened_at end,
        occurrences = v.occurrences + case when v.state = 'resolved' then 1 else 0 end
      where v.last_seen_at < excluded.last_seen_at
      returning v.*
    ),
    changed as (select v.id, ${violationJson} as j from up v where v.opened_at = ${atSql}),
    ev as (
      insert into violation_events (tenant_id, environment_id, violation_id, type, at)
      select ${tenant}, ${env}, id, 'opened', ${atSql} from changed
      returning 1
    ),
    wh as (${opened("violation.opened")} returning 1)
    select (select count(*)::int from input) as seen, (select count(*)::int from ev) as opened, (select count(*)::int from wh) as queued`);

  const second = await tx.execute<{ resolved: number; queued: number }>(sql`
    with res as (
      update violations v set state = 'resolved', resolved_at = ${atSql}
      where v.tenant_id = ${tenant} and v.environment_id = ${env} and v.state = 'open' and v.last_seen_at < ${atSql}
        and not exists (select 1 from jsonb_array_elements(${JSON.stringify(blind)}::jsonb) b
                        where b->>0 = v.constraint_kind and b->>1 = v.constraint_name)
      returning v.*
    ),
    changed as (select v.id, ${violationJson} as j from res v),
    ev as (
      insert into violation_events (tenant_id, environment_id, violation_id, type, at)
      select ${tenant}, ${env}, id, 'resolved', ${atSql} from changed
      returning 1
    ),
    wh as (${opened("violation.resolved")} returning 1)
    select (select count(*)::int from ev) as resolved, (select count(*)::int from wh) as queued`);

  const a = first.rows[0]!;
  const b = second.rows[0]!;
  return { seen: a.seen, opened: a.opened, resolved: b.resolved, queued: a.queued + b.queued };
}
