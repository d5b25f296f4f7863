// Rules across fields and sections that the schema shapes cannot express; every broken rule is reported.
import type {
    ClusterConfig,
    ContainerRole,
    DatabasesConfig,
    Environment,
    LocalConfig,
    ReleaseConfig,
    ServicesConfig,
} from "./schema";
import { DEFAULT_START_ORDER } from "./schema";

/** One broken rule: where (a config path below `release-platform:`) and what. */
export interface ConfigProblem {
    path: string;
    message: string;
}

export type PathSegment = string | number;

/** `["databases", "servers", "plesk", "databases", 5]` → `databases.servers.plesk.databases[5]`. */
export function formatPath(segments: readonly PathSegment[]): string {
    let out = "";
    for (const segment of segments) {
        if (typeof segment === "number") out += `[${segment}]`;
        else out += out === "" ? segment : `.${segment}`;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Secrets never live in the structured config.
// ---------------------------------------------------------------------------------------------

/** Key names that smell of a credential. */
export const SECRET_LIKE_KEY = /pass(word|wd|phrase)|secret|token|private_?key|api_?key/i;

export const SECRET_KEY_MESSAGE = "secrets come only from `pulumi config set --secret ...`, never from the structured config";

/** For a secret key of ours whose value sits in the stack file unencrypted. */
export const PLAINTEXT_SECRET_MESSAGE = "is in plain text: set it with `pulumi config set --secret ...`";

/** Record entries sorted by key: Pulumi hands maps over sorted, YAML in file order; answers must not differ. */
function sortedEntries<T>(record: Readonly<Record<string, T>>): [string, T][] {
    return Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Every key named like a credential, at any depth of a structured config value. */
export function findSecretLikeKeys(value: unknown, path: readonly PathSegment[]): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const visit = (node: unknown, at: readonly PathSegment[]): void => {
        if (Array.isArray(node)) {
            node.forEach((item, index) => visit(item, [...at, index]));
        } else if (node !== null && typeof node === "object") {
            for (const [key, child] of Object.entries(node)) {
                if (SECRET_LIKE_KEY.test(key)) {
                    problems.push({ path: formatPath([...at, key]), message: SECRET_KEY_MESSAGE });
                } else {
                    visit(child, [...at, key]);
                }
            }
        }
    };
    visit(value, path);
    return problems;
}

// ---------------------------------------------------------------------------------------------
// Cross-field rules. Each runs only when the sections it reads parsed, so a type error in one
// section still lets every other section's rules speak.
// ---------------------------------------------------------------------------------------------

/** The sections that passed their schema; a missing one failed (or is absent) and was reported already. */
export interface ParsedSections {
    environment?: Environment;
    databases?: DatabasesConfig;
    cluster?: ClusterConfig;
    services?: ServicesConfig;
    release?: ReleaseConfig;
    local?: LocalConfig;
    /** Whether the raw config had a `local` key at all (it may have failed its schema). */
    hasLocalKey?: boolean;
}

type Report = (path: readonly PathSegment[], message: string) => void;

export function validatePlatformConfig(sections: ParsedSections): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    const report: Report = (path, message) => problems.push({ path: formatPath(path), message });
    const { environment, databases, cluster, services, release } = sections;

    if (databases) {
        checkDatabaseCounts(databases, report);
        checkDatabaseNames(databases, report);
        checkDatabaseServerAccess(databases, environment, report);
    }
    if (cluster) {
        checkNodes(cluster, report);
        checkContainerIdentity(cluster, report);
        checkContainerNetwork(cluster, report);
        checkStartOrder(cluster, report);
        checkBlueGreenPorts(cluster, report);
        checkHaAffinityVersion(cluster, report);
    }
    if (services) {
        checkWeights(services, release, report);
        const hasCycle = checkDependencies(services, report);
        if (release?.order !== undefined) checkReleaseOrder(services, release.order, hasCycle, report);
        checkServiceAddresses(services, report);
        checkTrafficNames(services, release, report);
        if (databases) checkServiceDatabases(services, databases, report);
    }
    if (release) checkRelease(release, report);
    checkSshHostKeys(databases, release, environment, report);
    if (environment !== undefined) checkLocalSection(environment, sections.hasLocalKey ?? false, report);
    return problems;
}

/**
 * HA groups exist up to PVE 8, HA rules from PVE 9 on: PVE 8.4 has no /cluster/ha/rules (501), and
 * PVE 9 migrates groups to rules and refuses new groups and `group` on resources (pve-ha-manager).
 */
function checkHaAffinityVersion(cluster: ClusterConfig, report: Report): void {
    if (cluster.pveVersion === undefined) return;
    const major = Number(cluster.pveVersion.split(".")[0]);
    if (major < 9 && cluster.haAffinity === "rules") {
        report(["cluster", "haAffinity"], `PVE ${cluster.pveVersion} has no HA rules (they came with PVE 9): use haAffinity: groups`);
    } else if (major >= 9 && cluster.haAffinity === "groups") {
        report(["cluster", "haAffinity"], `PVE ${cluster.pveVersion} has migrated HA groups to rules and refuses new ones: use haAffinity: rules`);
    }
}

export function databaseNameFor(shortName: string): string {
    return `mo_${shortName}`;
}

export function databaseUserFor(shortName: string): string {
    return `svc_${shortName}`;
}

function checkDatabaseCounts(databases: DatabasesConfig, report: Report): void {
    for (const [serverName, server] of sortedEntries(databases.servers)) {
        const max = server.maxDatabases;
        if (max !== undefined && server.databases.length > max) {
            // Point at the first database over the limit: that is the one to move elsewhere.
            report(
                ["databases", "servers", serverName, "databases", max],
                `the ${serverName} server allows at most ${max} databases (has ${server.databases.length})`,
            );
        }
    }
}

function checkDatabaseNames(databases: DatabasesConfig, report: Report): void {
    const firstSeen = new Map<string, string>();
    for (const [serverName, server] of sortedEntries(databases.servers)) {
        server.databases.forEach((db, index) => {
            const at: PathSegment[] = ["databases", "servers", serverName, "databases", index];
            const database = databaseNameFor(db.name);
            const user = databaseUserFor(db.name);
            if (db.database !== undefined && db.database !== database) {
                report([...at, "database"], `must be ${database}: databases are named mo_<name> (got ${db.database})`);
            }
            if (db.user !== undefined && db.user !== user) {
                report([...at, "user"], `must be ${user}: service users are named svc_<name> (got ${db.user})`);
            }
            const earlier = firstSeen.get(database);
            if (earlier !== undefined) {
                report([...at, "name"], `database ${database} is already declared at ${earlier}`);
            } else {
                firstSeen.set(database, formatPath(at));
            }
        });
    }
}

function checkDatabaseServerAccess(databases: DatabasesConfig, environment: Environment | undefined, report: Report): void {
    for (const [serverName, server] of sortedEntries(databases.servers)) {
        const at: PathSegment[] = ["databases", "servers", serverName];
        if ((server.firewall === "nftables" || server.firewall === "ufw") && server.ssh === undefined) {
            report([...at, "ssh"], `the ${server.firewall} firewall is managed over SSH: this server needs an ssh target`);
        }
        if (server.engine === "postgresql" && server.ssh === undefined) {
            report([...at, "ssh"], "pg_hba.conf is managed over SSH: a postgresql server needs an ssh target");
        }
        if (server.engine === "postgresql" && server.version === undefined) {
            // Without it the provider connects while it is configured, so even a preview would contact the server.
            report([...at, "version"], 'a postgresql server needs its major version (e.g. "15"): the provider then contacts the server only to make changes');
        }
        checkAdminTls(server.admin.tls, environment, [...at, "admin", "tls"], report);
        if (server.engine === "mariadb" && server.admin.tls.mode === "verify-ca") {
            // mysqldump and mysql check a certificate only together with its name (--ssl-verify-server-cert).
            report([...at, "admin", "tls", "mode"], "verify-ca is for PostgreSQL: MariaDB's clients verify the certificate only with its host name, use verify-full");
        }
    }
}

/**
 * Outside the local stack an admin connection verifies the server: `verify-full` (the certificate
 * chains to `caFile` and names the host), or `verify-ca` with a reason; `disable` sends the admin
 * password in the open. There is no mode that encrypts but trusts whoever answers.
 */
function checkAdminTls(
    tls: DatabasesConfig["servers"][string]["admin"]["tls"],
    environment: Environment | undefined,
    at: PathSegment[],
    report: Report,
): void {
    const verifies = tls.mode === "verify-full" || tls.mode === "verify-ca";
    if (environment !== undefined && environment !== "local" && !verifies) {
        report([...at, "mode"], `${environment} admin connections must verify the server: verify-full with caFile (or verify-ca with a reason), not ${tls.mode}`);
    }
    if (verifies && tls.caFile === undefined) {
        report([...at, "caFile"], `${tls.mode} needs the CA that signed the server's certificate (an absolute path on the machine that runs Pulumi)`);
    }
    if (tls.mode === "verify-ca" && environment !== undefined && environment !== "local" && tls.reason === undefined) {
        report([...at, "reason"], "verify-ca does not check the host name: say why verify-full cannot be used");
    }
    if (tls.mode !== "verify-ca" && tls.reason !== undefined) {
        report([...at, "reason"], "only verify-ca takes a reason");
    }
    if (!verifies && tls.caFile !== undefined) {
        report([...at, "caFile"], `${tls.mode} does not verify the server, so a CA file would be ignored: use verify-full`);
    }
}

/** Every SSH target pins its host's key outside the local stack (the local stack's are pinned by `npm start`). */
function checkSshHostKeys(databases: DatabasesConfig | undefined, release: ReleaseConfig | undefined, environment: Environment | undefined, report: Report): void {
    if (environment === undefined || environment === "local") return;
    const targets: [PathSegment[], { hostKey?: string | undefined } | undefined][] = [
        ...sortedEntries(databases?.servers ?? {}).map(([name, server]): [PathSegment[], { hostKey?: string } | undefined] => [["databases", "servers", name, "ssh"], server.ssh]),
        [["release", "traffic", "haproxy", "ssh"], release?.traffic.haproxy?.ssh],
        [["release", "traffic", "nginx", "ssh"], release?.traffic.nginx?.ssh],
    ];
    for (const [at, ssh] of targets) {
        if (ssh !== undefined && ssh.hostKey === undefined) {
            report([...at, "hostKey"], `${environment} pins every SSH host key: set it to the host's public key (\`ssh-keyscan -t ed25519 -p <port> <host>\`, checked against the host's own /etc/ssh/ssh_host_ed25519_key.pub)`);
        }
    }
}

function checkNodes(cluster: ClusterConfig, report: Report): void {
    const seen = new Set<string>();
    cluster.nodes.forEach((node, index) => {
        if (seen.has(node)) report(["cluster", "nodes", index], `node ${node} is listed twice`);
        seen.add(node);
    });
    cluster.containers.forEach((container, index) => {
        if (!seen.has(container.node)) {
            report(
                ["cluster", "containers", index, "node"],
                `unknown node ${JSON.stringify(container.node)} (cluster.nodes: ${cluster.nodes.join(", ")})`,
            );
        }
    });
}

function checkContainerIdentity(cluster: ClusterConfig, report: Report): void {
    const byId = new Map<number, number>();
    const byName = new Map<string, number>();
    cluster.containers.forEach((container, index) => {
        const at: PathSegment[] = ["cluster", "containers", index];
        const sameId = byId.get(container.vmId);
        if (sameId !== undefined) {
            const other = cluster.containers[sameId]?.name ?? "";
            report([...at, "vmId"], `CT-ID ${container.vmId} is already used by ${other} (cluster.containers[${sameId}])`);
        } else {
            byId.set(container.vmId, index);
        }
        const sameName = byName.get(container.name);
        if (sameName !== undefined) {
            report([...at, "name"], `container name ${container.name} is already used by cluster.containers[${sameName}]`);
        } else {
            byName.set(container.name, index);
        }
    });
}

function ipv4ToNumber(ip: string): number {
    return ip.split(".").reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function checkContainerNetwork(cluster: ClusterConfig, report: Report): void {
    const vlanOwners = new Map<number, string>();
    for (const [role, id] of Object.entries(cluster.vlans)) {
        const owner = vlanOwners.get(id);
        if (owner !== undefined) report(["cluster", "vlans", role], `VLAN ${id} is already used by ${owner}`);
        else vlanOwners.set(id, role);
    }

    const byAddress = new Map<string, string>();
    cluster.containers.forEach((container, index) => {
        const at: PathSegment[] = ["cluster", "containers", index];
        const [address = "", prefixText = "32"] = container.ip.split("/");
        const owner = byAddress.get(address);
        if (owner !== undefined) report([...at, "ip"], `address ${address} is already used by ${owner}`);
        else byAddress.set(address, container.name);

        const prefix = Number(prefixText);
        // 2^32 - 2^(32-prefix) is the netmask; unsigned arithmetic keeps it exact in a double.
        const size = 2 ** (32 - prefix);
        const network = Math.floor(ipv4ToNumber(address) / size);
        if (Math.floor(ipv4ToNumber(container.gateway) / size) !== network) {
            report([...at, "gateway"], `gateway ${container.gateway} is outside ${container.ip}`);
        }
    });
}

function effectiveStartOrder(role: ContainerRole, startOrder: number | undefined): number {
    return startOrder ?? DEFAULT_START_ORDER[role];
}

function checkStartOrder(cluster: ClusterConfig, report: Report): void {
    let latestData: { name: string; order: number } | undefined;
    for (const container of cluster.containers) {
        if (container.role === "app") continue;
        const order = effectiveStartOrder(container.role, container.startOrder);
        if (latestData === undefined || order > latestData.order) latestData = { name: container.name, order };
    }
    if (latestData === undefined) return;
    const last = latestData;
    cluster.containers.forEach((container, index) => {
        if (container.role !== "app") return;
        const order = effectiveStartOrder(container.role, container.startOrder);
        if (order <= last.order) {
            report(
                ["cluster", "containers", index, "startOrder"],
                `an app container starts after the data services: ${order} is not above ${last.name}'s ${last.order}`,
            );
        }
    });
}

function checkBlueGreenPorts(cluster: ClusterConfig, report: Report): void {
    cluster.containers.forEach((container, index) => {
        const ports = container.blueGreenPorts;
        if (ports === undefined) return;
        const at: PathSegment[] = ["cluster", "containers", index, "blueGreenPorts"];
        if (!container.blueGreen) report(at, "only a blueGreen container has blue/green ports (set blueGreen: true)");
        else if (ports.blue === ports.green) report(at, `blue and green need different ports (both ${ports.blue})`);
    });
}

function checkWeights(services: ServicesConfig, release: ReleaseConfig | undefined, report: Report): void {
    for (const [name, service] of sortedEntries(services)) {
        const { blue, green } = service.weights;
        const at: PathSegment[] = ["services", name, "weights"];
        if (blue + green !== 100) {
            report(at, `blue + green must be 100 (${blue} + ${green} = ${blue + green})`);
        } else if (release && !release.ladder.includes(green)) {
            // Only a ladder step is a state the release can be in; a rollback is step 0.
            report([...at, "green"], `${green} is not a step of release.ladder (${release.ladder.join(", ")})`);
        }
    }
}

/**
 * One cycle per knot of mutually dependent services (strongly connected component), so one wrong
 * edge gives one answer even when it closes several loops: the shortest loop through the knot's
 * alphabetically first member. Sorted throughout, so key order (Pulumi sorts maps) never matters.
 */
export function findDependencyCycles(dependsOn: ReadonlyMap<string, readonly string[]>): string[][] {
    const edges = (name: string): string[] => [...new Set(dependsOn.get(name) ?? [])].filter((n) => dependsOn.has(n)).sort();

    // Tarjan's algorithm; the graphs are a handful of services, so recursion depth is no concern.
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const onStack = new Set<string>();
    const stack: string[] = [];
    const components: string[][] = [];
    const connect = (name: string): void => {
        index.set(name, index.size);
        low.set(name, index.get(name) ?? 0);
        stack.push(name);
        onStack.add(name);
        for (const next of edges(name)) {
            if (!index.has(next)) {
                connect(next);
                low.set(name, Math.min(low.get(name) ?? 0, low.get(next) ?? 0));
            } else if (onStack.has(next)) {
                low.set(name, Math.min(low.get(name) ?? 0, index.get(next) ?? 0));
            }
        }
        if (low.get(name) === index.get(name)) {
            const component: string[] = [];
            for (let member = stack.pop(); member !== undefined; member = stack.pop()) {
                onStack.delete(member);
                component.push(member);
                if (member === name) break;
            }
            components.push(component.sort());
        }
    };
    for (const name of [...dependsOn.keys()].sort()) if (!index.has(name)) connect(name);

    const cycles: string[][] = [];
    for (const component of components.sort((a, b) => ((a[0] ?? "") < (b[0] ?? "") ? -1 : 1))) {
        const start = component[0];
        if (start === undefined) continue;
        if (component.length === 1 && !edges(start).includes(start)) continue;
        // Breadth-first from the first member back to it, inside the component: the shortest loop.
        const members = new Set(component);
        const cameFrom = new Map<string, string>();
        const queue = [start];
        let closing: string | undefined;
        while (queue.length > 0 && closing === undefined) {
            const current: string = queue.shift() ?? start;
            for (const next of edges(current)) {
                if (next === start) {
                    closing = current;
                    break;
                }
                if (members.has(next) && !cameFrom.has(next)) {
                    cameFrom.set(next, current);
                    queue.push(next);
                }
            }
        }
        const path = [start];
        for (let at = closing; at !== undefined && at !== start; at = cameFrom.get(at)) path.splice(1, 0, at);
        cycles.push([...path, start]);
    }
    return cycles;
}

/**
 * Dependencies first; among services that are ready together, `preferred` order decides, then
 * the name. Names on a cycle never become ready and are left out (cycles are refused anyway).
 */
export function topologicalOrder(
    dependsOn: ReadonlyMap<string, readonly string[]>,
    preferred: readonly string[] = [],
): string[] {
    const rank = (name: string): number => {
        const index = preferred.indexOf(name);
        return index === -1 ? preferred.length : index;
    };
    const byPreference = (a: string, b: string): number => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
    const done = new Set<string>();
    const order: string[] = [];
    for (;;) {
        const ready = [...dependsOn.keys()]
            .filter((name) => !done.has(name))
            .filter((name) => (dependsOn.get(name) ?? []).every((dep) => done.has(dep) || !dependsOn.has(dep)))
            .sort(byPreference);
        const next = ready[0];
        if (next === undefined) return order;
        done.add(next);
        order.push(next);
    }
}

/** Reports unknown and repeated names and every cycle; says whether there was a cycle. */
function checkDependencies(services: ServicesConfig, report: Report): boolean {
    const graph = new Map<string, readonly string[]>();
    for (const [name, service] of sortedEntries(services)) {
        graph.set(name, service.dependsOn);
        const seen = new Set<string>();
        service.dependsOn.forEach((dependency, index) => {
            const at: PathSegment[] = ["services", name, "dependsOn", index];
            if (!(dependency in services)) report(at, `unknown service ${JSON.stringify(dependency)}`);
            else if (seen.has(dependency)) report(at, `${dependency} is listed twice`);
            seen.add(dependency);
        });
    }
    const cycles = findDependencyCycles(graph);
    for (const cycle of cycles) {
        report(["services", cycle[0] ?? "", "dependsOn"], `dependency cycle ${cycle.join(" -> ")}`);
    }
    return cycles.length > 0;
}

function checkReleaseOrder(services: ServicesConfig, order: readonly string[], hasCycle: boolean, report: Report): void {
    const position = new Map<string, number>();
    order.forEach((name, index) => {
        if (!(name in services)) report(["release", "order", index], `unknown service ${JSON.stringify(name)}`);
        else if (position.has(name)) report(["release", "order", index], `${name} is listed twice`);
        else position.set(name, index);
    });
    const missing = Object.keys(services).filter((name) => !position.has(name));
    if (missing.length > 0) report(["release", "order"], `must list every service; missing ${missing.join(", ")}`);
    // With a cycle no order can satisfy dependsOn; the cycle is the one mistake to report.
    if (hasCycle) return;
    for (const [name, index] of position) {
        for (const dependency of services[name]?.dependsOn ?? []) {
            const before = position.get(dependency);
            if (before !== undefined && before > index) {
                report(["release", "order", index], `${name} must come after ${dependency} (${name} dependsOn ${dependency})`);
            }
        }
    }
}

function checkServiceAddresses(services: ServicesConfig, report: Report): void {
    for (const [name, service] of sortedEntries(services)) {
        if (service.blue.address === service.green.address) {
            report(
                ["services", name, "green", "address"],
                `green must not share blue's address ${service.blue.address}: traffic could not be shifted`,
            );
        }
    }
}

function checkTrafficNames(services: ServicesConfig, release: ReleaseConfig | undefined, report: Report): void {
    const owners = new Map<string, string>();
    for (const [name, service] of sortedEntries(services)) {
        const at: PathSegment[] = ["services", name, "traffic"];
        const { backend } = service.traffic;
        const backendName = service.traffic.name ?? name;
        const key = `${backend}/${backendName}`;
        const owner = owners.get(key);
        if (owner !== undefined) report([...at, "name"], `${backend} backend ${backendName} is already used by service ${owner}`);
        else owners.set(key, name);
        if (release && release.traffic[backend] === undefined) {
            report([...at, "backend"], `${backend} is not configured: add release.traffic.${backend}`);
        }
    }
}

function checkServiceDatabases(services: ServicesConfig, databases: DatabasesConfig, report: Report): void {
    const known = new Set<string>();
    for (const server of Object.values(databases.servers)) for (const db of server.databases) known.add(db.name);
    for (const [name, service] of sortedEntries(services)) {
        service.databases.forEach((shortName, index) => {
            if (!known.has(shortName)) {
                report(["services", name, "databases", index], `unknown database ${JSON.stringify(shortName)} (no server declares it)`);
            }
        });
    }
}

function checkRelease(release: ReleaseConfig, report: Report): void {
    const { ladder } = release;
    const rising = ladder.every((step, index) => index === 0 || step > (ladder[index - 1] ?? -1));
    if (ladder[0] !== 0 || ladder[ladder.length - 1] !== 100 || !rising) {
        report(["release", "ladder"], `must start at 0, rise strictly and end at 100 (got ${ladder.join(", ")})`);
    }
    for (const bandName of ["errorRatePercent", "p95Ms"] as const) {
        const band = release.monitoring[bandName];
        if (!(band.normalBelow <= band.alertFrom && band.alertFrom <= band.criticalAbove)) {
            report(
                ["release", "monitoring", bandName],
                `bands must rise: normalBelow <= alertFrom <= criticalAbove (got ${band.normalBelow}, ${band.alertFrom}, ${band.criticalAbove})`,
            );
        }
    }
    const window = release.gates.changeWindow;
    if (window !== undefined && window.start === window.end) {
        report(["release", "gates", "changeWindow", "end"], `the change window is empty (starts and ends at ${window.start})`);
    }
}

function checkLocalSection(environment: Environment, hasLocalKey: boolean, report: Report): void {
    // The local stack may leave the section out (its defaults fit); elsewhere it would be a mix-up.
    if (environment !== "local" && hasLocalKey) {
        report(["local"], `only the local stack has a local section (this is ${environment})`);
    }
}
