-- Issue 13, item 2: before AUDIT_REPORT_MAX_AHEAD_SECONDS, an audit report dated in the future
-- (collectedAt 9999-12-31, say) was stored and ingested, and every time it wrote — the stored
-- report's collected_at, constraint_audits.complete_at, the violations' and their events' times —
-- outranked every later report, so nothing resolved or reopened again. Such times are brought
-- back to when the server had them (the report's receipt) or to now: the next report then moves
-- the history as usual. Rows of every tenant: the migrating role's system_access policy.
select set_config('app.system', 'on', true);--> statement-breakpoint
update audit_reports set collected_at = received_at where collected_at > received_at + interval '5 minutes';--> statement-breakpoint
update constraint_audits set complete_at = now() where complete_at > now() + interval '5 minutes';--> statement-breakpoint
update violations set
  first_seen_at = case when first_seen_at > now() then now() else first_seen_at end,
  opened_at = case when opened_at > now() then now() else opened_at end,
  last_seen_at = case when last_seen_at > now() then now() else last_seen_at end,
  resolved_at = case when resolved_at > now() then now() else resolved_at end
where greatest(first_seen_at, opened_at, last_seen_at, resolved_at) > now() + interval '5 minutes';--> statement-breakpoint
update violation_events set at = now() where at > now() + interval '5 minutes';--> statement-breakpoint
select set_config('app.system', '', true);
