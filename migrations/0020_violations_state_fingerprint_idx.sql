DROP INDEX "violations_environment_state_idx";--> statement-breakpoint
CREATE INDEX "violations_environment_state_fingerprint_idx" ON "violations" USING btree ("environment_id","state","fingerprint");