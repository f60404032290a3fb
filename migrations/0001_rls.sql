-- Row-level security: the second lock behind every tenant-scoped query.
-- Request code runs as role gatehouse_app (SET LOCAL ROLE inside withTenant) and sees only rows
-- whose tenant_id equals the transaction's app.tenant_id. The migrating (owning) role is also
-- subject to the policies (FORCE), except inside asSystem, which sets app.system = 'on'.

-- Create the role if missing; tolerate a concurrent creator (roles are cluster-wide).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gatehouse_app') THEN
    CREATE ROLE gatehouse_app NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END $$;
--> statement-breakpoint
-- The connecting role must be able to SET ROLE gatehouse_app. PostgreSQL 16+ grants a
-- CREATEROLE creator membership without SET, so ask for SET explicitly there.
DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    IF NOT pg_has_role(current_user, 'gatehouse_app', 'SET') THEN
      EXECUTE format('GRANT gatehouse_app TO %I WITH SET TRUE', current_user);
    END IF;
  ELSIF NOT pg_has_role(current_user, 'gatehouse_app', 'MEMBER') THEN
    EXECUTE format('GRANT gatehouse_app TO %I', current_user);
  END IF;
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO gatehouse_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO gatehouse_app;
--> statement-breakpoint
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO gatehouse_app;
--> statement-breakpoint
-- Tables created by later migrations get the same grants; their RLS must be added explicitly.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gatehouse_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO gatehouse_app;
--> statement-breakpoint
DO $$
DECLARE
  t text;
  scope text;
  tenant constant text := $q$nullif(current_setting('app.tenant_id', true), '')::uuid$q$;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenants', 'memberships', 'environments', 'settings_revisions',
                           'audit_log', 'api_keys', 'agent_credentials'] LOOP
    scope := CASE WHEN t = 'tenants' THEN 'id' ELSE 'tenant_id' END;
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON %I USING (%I = %s) WITH CHECK (%I = %s)',
                   t, scope, tenant, scope, tenant);
    -- Only the owning role (never gatehouse_app) may opt out, and only per transaction.
    EXECUTE format($f$CREATE POLICY system_access ON %I TO %I
                      USING (current_setting('app.system', true) = 'on')
                      WITH CHECK (current_setting('app.system', true) = 'on')$f$, t, current_user);
  END LOOP;
END $$;
