ALTER TABLE "audit_reports" ADD COLUMN "ingested_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "violations" ADD COLUMN "changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "delivery_mode" text DEFAULT 'per-violation' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "format" text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "controls" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "enforcement_actions" jsonb;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "rate_limit_per_second" double precision;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "next_send_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "violations_environment_changed_idx" ON "violations" USING btree ("environment_id","changed_at");--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_delivery_mode_check" CHECK (delivery_mode in ('digest', 'per-violation'));--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_format_check" CHECK (format in ('standard', 'slack'));--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_rate_limit_check" CHECK (rate_limit_per_second is null or rate_limit_per_second > 0);--> statement-breakpoint
-- Reports stored before chunked ingest were ingested in the transaction that stored them.
UPDATE "audit_reports" SET "ingested_at" = "received_at";
