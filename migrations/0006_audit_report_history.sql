CREATE TABLE "constraint_audits" (
	"environment_id" uuid NOT NULL,
	"tenant_id" uuid NOT NULL,
	"constraint_kind" text NOT NULL,
	"constraint_name" text NOT NULL,
	"complete_at" timestamp with time zone NOT NULL,
	CONSTRAINT "constraint_audits_environment_id_constraint_kind_constraint_name_pk" PRIMARY KEY("environment_id","constraint_kind","constraint_name")
);
--> statement-breakpoint
ALTER TABLE "violation_events" DROP CONSTRAINT "violation_events_tenant_id_tenants_id_fk";
--> statement-breakpoint
ALTER TABLE "violation_events" DROP CONSTRAINT "violation_events_environment_fk";
--> statement-breakpoint
ALTER TABLE "violations" DROP CONSTRAINT "violations_tenant_id_tenants_id_fk";
--> statement-breakpoint
-- The API now computes fingerprints itself (violationFingerprint in src/services/violations.ts),
-- from the compact JSON array; recompute the stored ones the same way. (Hand-written; the owner
-- is under FORCE row-level security too, hence system access inside the block.)
DO $$
BEGIN
  PERFORM set_config('app.system', 'on', true);
  UPDATE "violations" SET "fingerprint" = encode(sha256(convert_to(array_to_json(ARRAY[
    environment_id::text, constraint_kind, constraint_name, resource_group, resource_kind, namespace, name, message])::text, 'UTF8')), 'hex');
  PERFORM set_config('app.system', '', true);
END $$;
--> statement-breakpoint
-- Reports are stored gzipped (src/db/gzip-json.ts); a stored jsonb becomes its plain UTF-8 JSON,
-- which gunzipJson also reads. (Hand-edited: drizzle-kit wrote no USING clause.)
ALTER TABLE "audit_reports" ALTER COLUMN "report" SET DATA TYPE bytea USING convert_to("report"::text, 'UTF8');--> statement-breakpoint
ALTER TABLE "constraint_audits" ADD CONSTRAINT "constraint_audits_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "constraint_audits" ADD CONSTRAINT "constraint_audits_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;