// Edits of a stack's raw `config:` map that several integration tests make before their stack exists.
import * as path from "node:path";
import { readStackConfig } from "../../scripts/local-secrets";
import { PROJECT_ROOT, type StackConfigMap } from "./workspace";

/** Gives the stack production's release gates (`release.gates` of Pulumi.production.yaml, as committed). */
export function useProductionGates(config: StackConfigMap): void {
    const production = readStackConfig(path.join(PROJECT_ROOT, "Pulumi.production.yaml")) as { release: { gates: Record<string, unknown> } };
    (config["release-platform:release"] as { gates: Record<string, unknown> }).gates = structuredClone(production.release.gates);
}

interface RawDatabaseServer {
    engine?: string;
    databases: { name: string }[];
}

/**
 * Gives every database a test prefix (`main` becomes `<prefix>main`, so `mo_<prefix>main` and
 * `svc_<prefix>main`), so a test never touches the databases of a local stack from `npm start`,
 * and points the services at the new names. With `keepServer`, only the servers it accepts stay,
 * and services forget the databases of the others.
 */
export function prefixDatabaseNames(config: StackConfigMap, prefix: string, keepServer: (server: RawDatabaseServer) => boolean = () => true): void {
    const databases = config["release-platform:databases"] as { servers: Record<string, RawDatabaseServer> };
    const renamed = new Map<string, string>();
    for (const [name, server] of Object.entries(databases.servers)) {
        if (!keepServer(server)) {
            delete databases.servers[name];
            continue;
        }
        for (const db of server.databases) {
            renamed.set(db.name, prefix + db.name);
            db.name = prefix + db.name;
        }
    }
    const services = config["release-platform:services"] as Record<string, { databases?: string[] }>;
    for (const service of Object.values(services)) {
        if (service.databases) service.databases = service.databases.flatMap((name) => renamed.get(name) ?? []);
    }
}
