CREATE TABLE "upgrade_machine_fleet_claims" (
	"rollout_id" text NOT NULL,
	"target" text NOT NULL,
	"worker" text NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "upgrade_machine_fleet_claims_rollout_id_target_pk" PRIMARY KEY("rollout_id","target")
);
--> statement-breakpoint
CREATE TABLE "upgrade_machine_rollout_events" (
	"rollout_id" text NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"target" text,
	"payload" text NOT NULL,
	"at" text NOT NULL,
	"hash" text NOT NULL,
	CONSTRAINT "upgrade_machine_rollout_events_rollout_id_seq_pk" PRIMARY KEY("rollout_id","seq")
);
--> statement-breakpoint
CREATE TABLE "upgrade_machine_rollouts" (
	"rollout_id" text PRIMARY KEY NOT NULL,
	"fleet" text NOT NULL,
	"to_version" text NOT NULL,
	"created_at" text NOT NULL,
	"last_seq" integer NOT NULL,
	"last_hash" text NOT NULL
);
