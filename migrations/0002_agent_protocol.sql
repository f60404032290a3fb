CREATE TABLE "agent_status" (
	"environment_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"report" jsonb NOT NULL,
	"applied_revision" integer,
	"desired_revision" integer,
	"agent_version" text NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"last_sync_at" timestamp with time zone,
	"credential_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_reports" (
	"environment_id" uuid PRIMARY KEY NOT NULL,
	"tenant_id" uuid NOT NULL,
	"report" jsonb NOT NULL,
	"total_violations" integer NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"collected_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agent_status" ADD CONSTRAINT "agent_status_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "agent_status" ADD CONSTRAINT "agent_status_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_reports" ADD CONSTRAINT "audit_reports_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "audit_reports" ADD CONSTRAINT "audit_reports_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;