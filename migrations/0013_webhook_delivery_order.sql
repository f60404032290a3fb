CREATE TABLE "dispatcher_liveness" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"last_pass_at" timestamp with time zone NOT NULL,
	"up_since" timestamp with time zone NOT NULL,
	CONSTRAINT "dispatcher_liveness_single_row" CHECK ("dispatcher_liveness"."id" = 1)
);
--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "seq" bigint NOT NULL GENERATED ALWAYS AS IDENTITY (sequence name "webhook_deliveries_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "ordering_key" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret" text;--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD COLUMN "previous_secret_until" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "webhook_deliveries_ordering_idx" ON "webhook_deliveries" USING btree ("endpoint_id","ordering_key","seq") WHERE state = 'pending' and ordering_key is not null;--> statement-breakpoint
-- Added by hand: dispatcher_liveness is the dispatcher's alone (system transactions, as the
-- owning role); request code running as gatehouse_app has no business with it.
REVOKE ALL ON TABLE "dispatcher_liveness" FROM gatehouse_app;
