CREATE TABLE "admission_events_seen" (
	"tenant_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"event_uid" text NOT NULL,
	"count" integer NOT NULL,
	"denial_id" uuid NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "admission_events_seen_environment_id_event_uid_pk" PRIMARY KEY("environment_id","event_uid")
);
--> statement-breakpoint
CREATE TABLE "denials" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"tenant_id" uuid NOT NULL,
	"environment_id" uuid NOT NULL,
	"action" text NOT NULL,
	"control" text,
	"constraint_kind" text NOT NULL,
	"constraint_name" text NOT NULL,
	"namespace" text NOT NULL,
	"workload_kind" text NOT NULL,
	"workload_name" text NOT NULL,
	"object_kind" text NOT NULL,
	"object_name" text NOT NULL,
	"username" text NOT NULL,
	"message" text NOT NULL,
	"count" integer NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "denials_key_unique" UNIQUE("environment_id","action","constraint_name","namespace","workload_kind","workload_name"),
	CONSTRAINT "denials_action_check" CHECK (action in ('deny', 'warn', 'dryrun'))
);
--> statement-breakpoint
ALTER TABLE "admission_events_seen" ADD CONSTRAINT "admission_events_seen_denial_id_denials_id_fk" FOREIGN KEY ("denial_id") REFERENCES "public"."denials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "admission_events_seen" ADD CONSTRAINT "admission_events_seen_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "denials" ADD CONSTRAINT "denials_environment_fk" FOREIGN KEY ("tenant_id","environment_id") REFERENCES "public"."environments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "admission_events_seen_denial_idx" ON "admission_events_seen" USING btree ("denial_id");--> statement-breakpoint
CREATE INDEX "denials_tenant_last_seen_idx" ON "denials" USING btree ("tenant_id","last_seen_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "denials_environment_last_seen_idx" ON "denials" USING btree ("environment_id","last_seen_at");