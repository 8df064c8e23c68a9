ALTER TABLE "upgrade_machine_leases" ADD COLUMN "process" text;--> statement-breakpoint
ALTER TABLE "upgrade_machine_runs" ADD COLUMN "identity" text;--> statement-breakpoint
ALTER TABLE "upgrade_machine_runs" ADD COLUMN "last_seq" integer;--> statement-breakpoint
ALTER TABLE "upgrade_machine_runs" ADD COLUMN "last_hash" text;