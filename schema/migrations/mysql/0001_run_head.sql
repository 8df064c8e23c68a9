ALTER TABLE `upgrade_machine_leases` ADD `process` varchar(255);--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `identity` varchar(512);--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `last_seq` int;--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `last_hash` varchar(64);