ALTER TABLE "agent_status" ADD COLUMN "report_hash" text;--> statement-breakpoint
-- gatehouse_agent_status_check(tenant, environment, credential, hash, at, sync_at, interval_ms,
-- offline_ms): what POST /agent/v1/status needs written, decided and done in one statement.
-- 'report' when there is no stored report, its hash differs (or was never stored) or the last
-- write is outside [0, offline_ms) ago — the caller then takes the report's transaction;
-- otherwise the same report: 'none' less than interval_ms after the last write, else 'heartbeat'
-- after moving lastSeenAt, lastSyncAt and the report's lastSuccessfulSyncAt (never backwards).
-- Replaces the read of the whole stored report plus a second statement for the heartbeat.
CREATE FUNCTION gatehouse_agent_status_check(p_tenant uuid, p_environment uuid, p_credential uuid, p_hash text, p_at timestamptz, p_sync_at timestamptz, p_interval_ms bigint, p_offline_ms bigint) RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
  previous text := coalesce(current_setting('app.system', true), '');
  stored_hash text;
  seen timestamptz;
  age_ms double precision;
  outcome text;
BEGIN
  PERFORM set_config('app.system', 'on', true);
  SELECT s.report_hash, s.last_seen_at INTO stored_hash, seen
  FROM agent_status s
  WHERE s.tenant_id = p_tenant AND s.environment_id = p_environment;
  age_ms := extract(epoch FROM (p_at - seen)) * 1000;
  IF stored_hash IS NULL OR stored_hash <> p_hash OR NOT (age_ms >= 0 AND age_ms < p_offline_ms) THEN
    outcome := 'report';
  ELSIF age_ms < p_interval_ms THEN
    outcome := 'none';
  ELSE
    UPDATE agent_status SET
      last_seen_at = p_at,
      last_sync_at = p_sync_at,
      credential_id = p_credential,
      report = jsonb_set(report, '{lastSuccessfulSyncAt}', coalesce(to_jsonb(to_char(p_sync_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), 'null'::jsonb))
    WHERE tenant_id = p_tenant AND environment_id = p_environment AND last_seen_at < p_at;
    outcome := 'heartbeat';
  END IF;
  PERFORM set_config('app.system', previous, true);
  RETURN outcome;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION gatehouse_agent_status_check(uuid, uuid, uuid, text, timestamptz, timestamptz, bigint, bigint) FROM PUBLIC;
-- gatehouse_agent_status and gatehouse_agent_heartbeat (0019) stay for instances of the previous
-- release while a rolling deploy replaces them; nothing in this release calls them.
