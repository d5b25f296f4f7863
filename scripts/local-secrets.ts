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

/**
 * `local-secrets.ts <stack file> <stack>`: sets every missing secret of the local stack through the
 * CLI, passing each value on stdin so it never appears in a process list or a log.
 */
if (require.main === module) {
    const [file, stack] = process.argv.slice(2);
    if (!file || !stack) throw new Error("usage: local-secrets.ts Pulumi.local.yaml local");
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
