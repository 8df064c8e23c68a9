// The adapter contract (test/contract/adapter-contract.ts) run for every dialect: SQLite,
// PostgreSQL (pg_dump restore points and template restore points) and MySQL/MariaDB.
import { defineAdapterContract } from "./contract/adapter-contract.js";
import { contractTargets } from "./contract/targets.js";

for (const target of await contractTargets()) defineAdapterContract(target);
