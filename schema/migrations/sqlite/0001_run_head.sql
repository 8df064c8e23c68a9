ALTER TABLE `upgrade_machine_leases` ADD `process` text;--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `identity` text;--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `last_seq` integer;--> statement-breakpoint
ALTER TABLE `upgrade_machine_runs` ADD `last_hash` text;