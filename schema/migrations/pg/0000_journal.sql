CREATE TABLE "upgrade_machine_events" (
	"run_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"step" text,
	"payload" text NOT NULL,
	"at" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "upgrade_machine_events_run_id_seq_pk" PRIMARY KEY("run_id","seq")
);
--> statement-breakpoint
CREATE TABLE "upgrade_machine_leases" (
	"target" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"run_id" text,
	"host" text NOT NULL,
	"pid" integer NOT NULL,
	"expires_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "upgrade_machine_runs" (
	"run_id" text PRIMARY KEY NOT NULL,
	"target" text NOT NULL,
	"name" text NOT NULL,
	"created_at" text NOT NULL
);
