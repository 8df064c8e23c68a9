CREATE TABLE `upgrade_machine_events` (
	`run_id` varchar(64) NOT NULL,
	`seq` int NOT NULL,
	`type` varchar(64) NOT NULL,
	`step` varchar(64),
	`payload` longtext NOT NULL,
	`at` varchar(32) NOT NULL,
	`hash` varchar(64) NOT NULL,
	CONSTRAINT `upgrade_machine_events_run_id_seq_pk` PRIMARY KEY(`run_id`,`seq`)
);
--> statement-breakpoint
CREATE TABLE `upgrade_machine_leases` (
	`target` varchar(512) NOT NULL,
	`owner` varchar(128) NOT NULL,
	`run_id` varchar(64),
	`host` varchar(255) NOT NULL,
	`pid` int NOT NULL,
	`expires_at` bigint NOT NULL,
	CONSTRAINT `upgrade_machine_leases_target` PRIMARY KEY(`target`)
);
--> statement-breakpoint
CREATE TABLE `upgrade_machine_runs` (
	`run_id` varchar(64) NOT NULL,
	`target` varchar(512) NOT NULL,
	`name` varchar(255) NOT NULL,
	`created_at` varchar(32) NOT NULL,
	CONSTRAINT `upgrade_machine_runs_run_id` PRIMARY KEY(`run_id`)
);
