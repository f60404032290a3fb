ALTER TABLE "denials" ADD COLUMN "notified_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "denials" ADD COLUMN "notified_message" text;--> statement-breakpoint
ALTER TABLE "denials" ADD COLUMN "notified_count" integer DEFAULT 0 NOT NULL;