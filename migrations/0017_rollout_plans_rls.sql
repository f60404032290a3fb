-- Row-level security for rollout_plans, exactly as 0001_rls.sql sets it up for the others:
-- ENABLE + FORCE, tenant_isolation on tenant_id = app.tenant_id, and system_access for the
-- migrating role inside asSystem only. Grants come from 0001's default privileges.
DO $$
DECLARE
  tenant constant text := $q$nullif(current_setting('app.tenant_id', true), '')::uuid$q$;
BEGIN
  ALTER TABLE rollout_plans ENABLE ROW LEVEL SECURITY;
  ALTER TABLE rollout_plans FORCE ROW LEVEL SECURITY;
  EXECUTE format('CREATE POLICY tenant_isolation ON rollout_plans USING (tenant_id = %s) WITH CHECK (tenant_id = %s)',
                 tenant, tenant);
  EXECUTE format($f$CREATE POLICY system_access ON rollout_plans TO %I
                    USING (current_setting('app.system', true) = 'on')
                    WITH CHECK (current_setting('app.system', true) = 'on')$f$, current_user);
END $$;
