// Entry point: read and validate the stack config once, declare the platform, export what teams need.
import * as pulumi from "@pulumi/pulumi";
import { loadPlatformSpec, readPlatformSecrets } from "./components/config";
import { Platform } from "./components/platform";

const config = new pulumi.Config();
// Throws one error listing every config problem, before any resource is registered.
const spec = loadPlatformSpec(config);
const secrets = readPlatformSecrets(config, spec);

const platform = new Platform("platform", { spec, secrets });

export const environment = spec.environment;
/** Each database with where to reach it; the password is a secret. */
export const databases = platform.databases.map((db) => ({
    server: db.server,
    engine: db.engine,
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    password: db.password,
}));
