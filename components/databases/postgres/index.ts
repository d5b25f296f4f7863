// PostgreSQL servers of the fleet: the server module and its pg_hba.conf rules.
export * from "./hba";
export * from "./server";
