// Throwaway secret values for the local stack (loopback servers only); never used for staging or production.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { CONFIG_NAMESPACE, parsePlatformConfig, requiredSecretKeys, SECRET_KEYS, type PlatformSpec } from "../components/config";

/** The emulator accepts any token of this shape; a real cluster needs a real one. */
export const LOCAL_PROXMOX_TOKEN = "root@pam!local=00000000-0000-4000-8000-000000000000";

/** Reads a stack file's `release-platform:*` config into the raw object the parser takes. */
export function readStackConfig(file: string): Record<string, unknown> {
    const doc = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(doc?.config ?? {})) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`)) raw[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
    }
    return raw;
}

/** The SSH key of the local stack: generated once per machine, outside the repository. */
export function localSshKey(cacheDir: string): string {
    const dir = path.join(cacheDir, "local-ssh");
    const key = path.join(dir, "id_ed25519");
    if (!fs.existsSync(key)) {
        fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
        execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "release-platform-local", "-f", key]);
    }
    return fs.readFileSync(key, "utf8");
}

/** Every secret the local spec needs, with its throwaway value (admins on loopback have no password). */
export function localSecretValues(spec: PlatformSpec, cacheDir: string): Map<string, string> {
    const values = new Map<string, string>();
    for (const key of requiredSecretKeys(spec)) {
        if (key === SECRET_KEYS.proxmoxApiToken) values.set(key, LOCAL_PROXMOX_TOKEN);
        else if (key.startsWith("dbAdminPassword.")) values.set(key, "");
        else if (key.startsWith("sshPrivateKey.")) values.set(key, localSshKey(cacheDir));
        else if (key.startsWith("dbPassword.")) values.set(key, `local-${key.slice("dbPassword.".length)}-password`);
        else throw new Error(`no local value known for secret ${key}`);
    }
    return values;
}

/** Where scripts/local-servers.sh keeps the local sshd (its host key is what the local stack pins). */
export const LOCAL_SERVER_STATE = process.env.RP_SERVER_STATE ?? "/var/lib/release-platform";
export const LOCAL_SSHD = { host: "127.0.0.1", port: 2222 } as const;

/** The local sshd's host key as the stack pins it (`<type> <base64>`), read from the key scripts/local-servers.sh made. */
export function localSshdHostKey(stateDir: string = LOCAL_SERVER_STATE): string {
    const file = path.join(stateDir, "sshd", "ssh_host_ed25519_key.pub");
    if (!fs.existsSync(file)) throw new Error(`${file} is missing: start the local servers first (bash scripts/local-servers.sh)`);
    const [type = "", key = ""] = fs.readFileSync(file, "utf8").trim().split(/\s+/);
    return `${type} ${key}`;
}

interface RawSshTarget {
    host?: unknown;
    port?: unknown;
    hostKey?: unknown;
}

/** One place in a stack file's `config:` map: the `release-platform:<section>` key and the path below it. */
export interface ConfigPlace {
    key: string;
    path: string[];
}

/** `release-platform:databases.servers["mariadb-ext"].ssh.hostKey`, as `pulumi config set --path` takes it. */
export function formatConfigPlace(place: ConfigPlace): string {
    return place.key + place.path.map((segment) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment) ? `.${segment}` : `[${JSON.stringify(segment)}]`)).join("");
}

/**
 * Every ssh target of a local stack config that points at the local sshd and pins no key yet: the
 * local stack pins its sshd's key like every other stack, but that key is made per machine, so it
 * is filled in (here, by `npm start` and by the test workspaces) rather than committed.
 */
export function localHostKeyPins(config: Readonly<Record<string, unknown>>): ConfigPlace[] {
    const pins: ConfigPlace[] = [];
    const consider = (ssh: RawSshTarget | undefined, place: ConfigPlace): void => {
        if (ssh && ssh.host === LOCAL_SSHD.host && (ssh.port ?? 22) === LOCAL_SSHD.port && ssh.hostKey === undefined) {
            pins.push({ key: place.key, path: [...place.path, "ssh", "hostKey"] });
        }
    };
    const databasesKey = `${CONFIG_NAMESPACE}:databases`;
    const databases = config[databasesKey] as { servers?: Record<string, { ssh?: RawSshTarget }> } | undefined;
    for (const [name, server] of Object.entries(databases?.servers ?? {})) consider(server.ssh, { key: databasesKey, path: ["servers", name] });
    const releaseKey = `${CONFIG_NAMESPACE}:release`;
    const release = config[releaseKey] as { traffic?: Record<string, { ssh?: RawSshTarget } | undefined> } | undefined;
    for (const backend of ["haproxy", "nginx"]) consider(release?.traffic?.[backend]?.ssh, { key: releaseKey, path: ["traffic", backend] });
    return pins;
}

/** Sets one place in a stack file's `config:` map, as `pulumi config set --path` would. */
export function setConfigPlace(config: Record<string, unknown>, place: ConfigPlace, value: string): void {
    let node = config[place.key] as Record<string, unknown>;
    for (const segment of place.path.slice(0, -1)) node = node[segment] as Record<string, unknown>;
    node[place.path[place.path.length - 1] ?? ""] = value;
}

/**
 * `local-secrets.ts <stack file> <stack>`: pins the local sshd's host key, then sets every missing
 * secret of the local stack through the CLI, passing each value on stdin so it never appears in a
 * process list or a log.
 */
if (require.main === module) {
    const [file, stack] = process.argv.slice(2);
    if (!file || !stack) throw new Error("usage: local-secrets.ts Pulumi.local.yaml local");
    const document = parseYaml(fs.readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null;
    for (const pin of localHostKeyPins(document?.config ?? {})) {
        const at = formatConfigPlace(pin);
        execFileSync("pulumi", ["config", "set", "--path", at, localSshdHostKey(), "--stack", stack, "--config-file", file], { stdio: ["ignore", "ignore", "inherit"] });
        console.log(`[local-stack] pinned the local sshd's host key at ${at}`);
    }
    const spec = parsePlatformConfig(readStackConfig(file));
    if (spec.environment !== "local") throw new Error(`${file}: throwaway secrets are only for the local stack (environment is ${spec.environment})`);
    const cache = process.env.RP_CACHE ?? path.join(process.env.HOME ?? "/tmp", ".cache", "release-platform");
    for (const [key, value] of localSecretValues(spec, cache)) {
        const fullKey = `${CONFIG_NAMESPACE}:${key}`;
        try {
            execFileSync("pulumi", ["config", "get", fullKey, "--stack", stack, "--config-file", file], { stdio: "ignore" });
            continue; // already set: keep it
        } catch {
            execFileSync("pulumi", ["config", "set", "--secret", fullKey, "--stack", stack, "--config-file", file], {
                input: value,
                stdio: ["pipe", "ignore", "inherit"],
            });
            console.log(`[local-stack] set secret ${fullKey}`);
        }
    }
}
