CREATE TABLE "rollout_plans" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"control" text NOT NULL,
	"steps" jsonb NOT NULL,
	"next_step" integer DEFAULT 0 NOT NULL,
	"state" text DEFAULT 'active' NOT NULL,
	"step_started_at" timestamp with time zone NOT NULL,
	"evidence_gap_at" timestamp with time zone,
	"waiting" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"checked_at" timestamp with time zone,
	"comment" text DEFAULT '' NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rollout_plans_state_check" CHECK (state in ('active', 'completed', 'cancelled'))
);
--> statement-breakpoint
ALTER TABLE "drafts" ADD COLUMN "preview_admissions" jsonb;--> statement-breakpoint
ALTER TABLE "rollout_plans" ADD CONSTRAINT "rollout_plans_tenant_id_tenants_id_fk" FOREIGN KEY ("tenant_id") REFERENCES "public"."tenants"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rollout_plans" ADD CONSTRAINT "rollout_plans_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "rollout_plans_active_control_idx" ON "rollout_plans" USING btree ("environment_id","control") WHERE state = 'active';--> statement-breakpoint
CREATE INDEX "rollout_plans_environment_idx" ON "rollout_plans" USING btree ("tenant_id","environment_id","created_at");--> statement-breakpoint
CREATE INDEX "rollout_plans_active_idx" ON "rollout_plans" USING btree ("state") WHERE state = 'active';