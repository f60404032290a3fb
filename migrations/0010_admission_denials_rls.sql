-- Row-level security for denials and admission_events_seen, exactly as 0001_rls.sql sets it up
-- for the others: ENABLE + FORCE, tenant_isolation on tenant_id = app.tenant_id, and
-- system_access for the migrating role inside asSystem only. Grants come from 0001's default
-- privileges.
DO $$
DECLARE
  tenant constant text := $q$nullif(current_setting('app.tenant_id', true), '')::uuid$q$;
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['denials', 'admission_events_seen'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (tenant_id = %s) WITH CHECK (tenant_id = %s)', t, tenant, tenant);
    EXECUTE format($f$CREATE POLICY system_access ON %I TO %I
                      USING (current_setting('app.system', true) = 'on')
                      WITH CHECK (current_setting('app.system', true) = 'on')$f$, t, current_user);
  END LOOP;
END $$;
