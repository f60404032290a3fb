-- The agents' hot path in one round trip each, and the invalidation of what a Node process
-- caches of it (src/services/agent-state.ts).
--
-- gatehouse_agent_state(prefix, at, touch_hash): an agent credential with everything its desired state is
-- made of — the environment's name and current revision, that revision's document and the open
-- drafts at `at` — as one jsonb value, in one statement outside any transaction. It reads as the
-- system (the credential is looked up by its public prefix before any tenant is known), and every
-- join names the credential's own tenant and environment, so it returns nothing of anyone else.
-- With touch_hash (the sha256 of the presented secret) it also records the credential's "last
-- used" when that is older than touch_interval — only for the credential that secret is really
-- for, and not a revoked one — so the touch costs no round trip of its own.
-- app.system is on for the function's own query only (set, then put back: a SET clause on the
-- function would need a superuser for a custom setting); EXECUTE is the migrating role's only.
CREATE FUNCTION gatehouse_agent_state(p_prefix text, p_at timestamptz, p_touch_hash text, p_touch_interval interval) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
  previous text := coalesce(current_setting('app.system', true), '');
  result jsonb;
BEGIN
  PERFORM set_config('app.system', 'on', true);
  IF p_touch_hash IS NOT NULL THEN
    UPDATE agent_credentials SET last_used_at = p_at
    WHERE prefix = p_prefix AND secret_hash = p_touch_hash AND revoked_at IS NULL
      AND (last_used_at IS NULL OR last_used_at < p_at - p_touch_interval);
  END IF;
  SELECT jsonb_build_object(
    'credentialId', c.id,
    'tenantId', c.tenant_id,
    'environmentId', c.environment_id,
    'secretHash', c.secret_hash,
    'revoked', c.revoked_at IS NOT NULL,
    'environmentName', e.name,
    'revision', e.current_revision,
    'document', r.document,
    'drafts', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', d.id, 'version', d.version, 'expiresAt', d.expires_at, 'document', d.document) ORDER BY d.created_at, d.id)
      FROM drafts d
      WHERE d.tenant_id = c.tenant_id AND d.environment_id = c.environment_id AND d.expires_at > p_at
    ), '[]'::jsonb))
  INTO result
  FROM agent_credentials c
  JOIN environments e ON e.tenant_id = c.tenant_id AND e.id = c.environment_id
  LEFT JOIN settings_revisions r ON r.tenant_id = e.tenant_id AND r.environment_id = e.id AND r.revision = e.current_revision
  WHERE c.prefix = p_prefix;
  PERFORM set_config('app.system', previous, true);
  RETURN result;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION gatehouse_agent_state(text, timestamptz, text, interval) FROM PUBLIC;
--> statement-breakpoint
-- gatehouse_agent_status(tenant, environment): what POST /agent/v1/status compares a report with
-- (the current revision, the previous report and when it came), in one statement, so a report
-- that changes nothing costs one read and no write.
CREATE FUNCTION gatehouse_agent_status(p_tenant uuid, p_environment uuid) RETURNS jsonb
LANGUAGE plpgsql
AS $$
DECLARE
  previous text := coalesce(current_setting('app.system', true), '');
  result jsonb;
BEGIN
  PERFORM set_config('app.system', 'on', true);
  SELECT jsonb_build_object('revision', e.current_revision, 'report', s.report, 'lastSeenAt', s.last_seen_at)
  INTO result
  FROM environments e
  LEFT JOIN agent_status s ON s.tenant_id = e.tenant_id AND s.environment_id = e.id
  WHERE e.tenant_id = p_tenant AND e.id = p_environment;
  PERFORM set_config('app.system', previous, true);
  RETURN result;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION gatehouse_agent_status(uuid, uuid) FROM PUBLIC;
--> statement-breakpoint
-- gatehouse_agent_heartbeat(tenant, environment, credential, at, sync_at): a status report that
-- repeats the stored one but for its sync time, more than one interval after the last write: one
-- UPDATE (lastSeenAt, lastSyncAt and the report's lastSuccessfulSyncAt; never backwards), where
-- a changed report takes a transaction of several statements.
CREATE FUNCTION gatehouse_agent_heartbeat(p_tenant uuid, p_environment uuid, p_credential uuid, p_at timestamptz, p_sync_at timestamptz) RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
  previous text := coalesce(current_setting('app.system', true), '');
BEGIN
  PERFORM set_config('app.system', 'on', true);
  UPDATE agent_status SET
    last_seen_at = p_at,
    last_sync_at = p_sync_at,
    credential_id = p_credential,
    report = jsonb_set(report, '{lastSuccessfulSyncAt}', coalesce(to_jsonb(to_char(p_sync_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), 'null'::jsonb))
  WHERE tenant_id = p_tenant AND environment_id = p_environment AND last_seen_at < p_at;
  PERFORM set_config('app.system', previous, true);
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION gatehouse_agent_heartbeat(uuid, uuid, uuid, timestamptz, timestamptz) FROM PUBLIC;
--> statement-breakpoint
-- Every write that can change an agent's desired state or its credential notifies channel
-- gatehouse_agent_state with '<tenant id>/<environment id>'; PostgreSQL delivers it at commit
-- (never on rollback) to every listening process, which forgets what it cached of that
-- environment. Triggers rather than calls in the application: no write path, present or future,
-- can forget one. TG_ARGV[0] names the environment id column of the table.
CREATE FUNCTION gatehouse_notify_agent_state() RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
  r jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  PERFORM pg_notify('gatehouse_agent_state', (r->>'tenant_id') || '/' || (r->>TG_ARGV[0]));
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The revision pointer and the name are in the desired state; description and labels are not.
CREATE TRIGGER agent_state_notify AFTER UPDATE OF name, current_revision OR DELETE ON environments
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_agent_state('id');
--> statement-breakpoint
-- Revisions are never rewritten; a change to one would still be a change of what agents apply.
CREATE TRIGGER agent_state_notify AFTER UPDATE OF document OR DELETE ON settings_revisions
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_agent_state('environment_id');
--> statement-breakpoint
-- Rotation (secret_hash) and revocation; not the "last used" touch, which changes nothing cached.
CREATE TRIGGER agent_state_notify AFTER UPDATE OF secret_hash, revoked_at, prefix, environment_id OR DELETE ON agent_credentials
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_agent_state('environment_id');
--> statement-breakpoint
-- A draft's shadow constraints: created, resolved again, re-dated or deleted; not its preview.
CREATE TRIGGER agent_state_notify AFTER INSERT OR UPDATE OF document, version, expires_at OR DELETE ON drafts
  FOR EACH ROW EXECUTE FUNCTION gatehouse_notify_agent_state('environment_id');
