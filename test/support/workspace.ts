// A throwaway copy of the Pulumi project with its own file backend, driven through the real CLI.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { parsePlatformConfig } from "../../components/config";
import { localHostKeyPins, localSecretValues, localSshdHostKey, readStackConfig, setConfigPlace } from "../../scripts/local-secrets";
import { PveEmulator, type PveEmulatorOptions } from "./pve-emulator";
import { SecretKit } from "./secret-kit";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** One of our commands as `npm run` runs it: compiled into dist/scripts/ (built by `npm test` first). */
export function compiledScript(name: string): string {
    return path.join(PROJECT_ROOT, "dist", "scripts", `${name}.js`);
}

/**
 * Files and folders of the project that a run needs (node_modules is linked, not copied): the
 * compiled program and pack (dist/, built once by `npm test`) with the sources they were built from.
 */
const PROJECT_ENTRIES = ["Pulumi.yaml", "package.json", "tsconfig.json", "tsconfig.build.json", "index.ts", "components", "policies", "scripts", "dist"];

/** The test passphrase of throwaway stacks; real stacks use their own, never committed. */
export const TEST_PASSPHRASE = "test-passphrase-not-a-secret";

export interface CliResult {
    code: number;
    stdout: string;
    stderr: string;
    /** stdout and stderr interleaved as the CLI printed them. */
    output: string;
    seconds: number;
}

export class CliError extends Error {
    constructor(
        public readonly args: string[],
        public readonly result: CliResult,
    ) {
        super(`pulumi ${args.join(" ")} exited ${result.code}:\n${result.output}`);
    }
}

export interface WorkspaceOptions {
    /** Stack config file to start from (a Pulumi.<stack>.yaml of the project). */
    stackConfig?: string;
    stack?: string;
    /** Extra environment for every CLI call. */
    env?: Record<string, string>;
    /** Changes the stack's `config:` map before the stack is created (e.g. test-only names). */
    editConfig?: (config: StackConfigMap) => void;
    /**
     * Starts a Proxmox API emulator for this workspace alone and points `cluster.endpoint` at it.
     * Default: on when the config points at the local stack's emulator address, so every test of
     * the local config gets a fresh, empty cluster (`ws.pve` to inspect it).
     */
    pveEmulator?: boolean | PveEmulatorOptions;
    /**
     * Runs every CLI call through this command, e.g. `unshare --net` so a preview provably reaches
     * no server (`ISOLATED_NETWORK`).
     */
    commandPrefix?: string[];
}

/** The policy pack with the local stack's enforcement (gates advisory: a test stack has no CI evidence). */
export const LOCAL_POLICY_PACK = ["--policy-pack", "policies", "--policy-pack-config", "policies/config/local.json"];

/** A command prefix that runs the CLI in a new network namespace with loopback only. */
export const ISOLATED_NETWORK = ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$0" "$@"'];

/** Where Pulumi.local.yaml expects the standalone emulator (`npm start`). */
export const LOCAL_PVE_ENDPOINT = "https://127.0.0.1:8006";

/** A stack file's `config:` map: `release-platform:<section>` keys to plain values. */
export type StackConfigMap = Record<string, unknown>;

/** Where setup keeps its caches (the local SSH key lives there). */
export const RP_CACHE = process.env.RP_CACHE ?? path.join(os.homedir(), ".cache", "release-platform");

/**
 * Runs the real `pulumi` CLI (through `prefix`, e.g. `unshare --net`) in `cwd` with `env`; rejects
 * with the full output on a non-zero exit unless `allowFailure`.
 */
export async function runPulumi(
    cwd: string,
    env: NodeJS.ProcessEnv,
    args: string[],
    options: { allowFailure?: boolean; input?: string; prefix?: string[] } = {},
): Promise<CliResult> {
    const started = process.hrtime.bigint();
    const [command = "pulumi", ...prefixArgs] = [...(options.prefix ?? []), "pulumi"];
    const child = spawn(command, [...prefixArgs, ...args], { cwd, env });
    let stdout = "";
    let stderr = "";
    let output = "";
    child.stdout.on("data", (d: Buffer) => ((stdout += d), (output += d)));
    child.stderr.on("data", (d: Buffer) => ((stderr += d), (output += d)));
    child.stdin.end(options.input ?? "");
    const code: number = await new Promise((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (c) => resolve(c ?? -1));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const result = { code, stdout, stderr, output, seconds };
    if (code !== 0 && !options.allowFailure) throw new CliError(args, result);
    return result;
}

/**
 * The environment of every CLI call on a throwaway project in `dir`: its own `file://` backend in
 * `dir/.state` (made here), the test passphrase, no update checks or plugin downloads, then `extra`.
 */
export function projectEnv(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    fs.mkdirSync(path.join(dir, ".state"), { recursive: true });
    return {
        ...process.env,
        PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`,
        PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        PULUMI_NODEJS_TRANSPILE_ONLY: "true",
        NO_COLOR: "1",
        ...extra,
    };
}

let kit: Promise<SecretKit> | undefined;

/** The machine's kit of encrypted test secrets (test/support/secret-kit.ts), opened once per test process. */
function secretKit(): Promise<SecretKit> {
    kit ??= SecretKit.open(path.join(PROJECT_ROOT, "test", ".tmp", "secret-kit"), TEST_PASSPHRASE, { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", NO_COLOR: "1" }, runPulumi);
    return kit;
}

/** A project copy in a temp dir with a `file://` backend inside it and one initialised stack. */
export class Workspace {
    readonly dir: string;
    readonly stack: string;
    /** The environment of every CLI call (its own backend and passphrase). */
    readonly env: NodeJS.ProcessEnv;

    /** The workspace's own Proxmox API emulator, when it has one (see WorkspaceOptions.pveEmulator). */
    pve: PveEmulator | undefined;

    private constructor(
        dir: string,
        stack: string,
        env: NodeJS.ProcessEnv,
        private readonly commandPrefix: string[] = [],
    ) {
        this.dir = dir;
        this.stack = stack;
        this.env = env;
    }

    static async create(name: string, options: WorkspaceOptions = {}): Promise<Workspace> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), `rp-${name}-`));
        for (const entry of PROJECT_ENTRIES) {
            fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(dir, entry), {
                recursive: true,
                filter: (src) => !src.includes(`${path.sep}node_modules`),
            });
        }
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
        const stack = options.stack ?? "local";
        const source = options.stackConfig ?? path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
        // The stack file is copied without its salt: the stack gets the secret kit's (test passphrase), so
        // setLocalSecrets writes ciphertexts encrypted once per machine instead of a `config set` per secret.
        const doc = parseYaml(fs.readFileSync(source, "utf8")) as { config: StackConfigMap };
        options.editConfig?.(doc.config);
        // Like `npm start`: the local sshd's host key is pinned wherever the config points at it.
        for (const pin of localHostKeyPins(doc.config)) setConfigPlace(doc.config, pin, localSshdHostKey());
        const cluster = doc.config["release-platform:cluster"] as { endpoint?: string; pveVersion?: string } | undefined;
        const wantsEmulator = options.pveEmulator ?? cluster?.endpoint === LOCAL_PVE_ENDPOINT;
        // The emulator serves the Proxmox VE version the stack names (cluster.pveVersion), unless the test asks for another.
        const emulatorOptions = { ...(cluster?.pveVersion ? { version: cluster.pveVersion } : {}), ...(typeof options.pveEmulator === "object" ? options.pveEmulator : {}) };
        const pve = wantsEmulator && cluster ? await PveEmulator.start(emulatorOptions) : undefined;
        if (pve && cluster) cluster.endpoint = pve.endpoint;
        const usesKit = (options.env?.PULUMI_CONFIG_PASSPHRASE ?? TEST_PASSPHRASE) === TEST_PASSPHRASE;
        const salt = usesKit ? { encryptionsalt: (await secretKit()).salt() } : {};
        fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringifyYaml({ ...salt, config: doc.config }));
        const ws = new Workspace(dir, stack, projectEnv(dir, options.env), options.commandPrefix);
        ws.pve = pve;
        await ws.run(["stack", "init", stack, "--secrets-provider", "passphrase"]);
        return ws;
    }

    /** Runs the real `pulumi` CLI in the project copy; rejects with the full output on a non-zero exit. */
    run(args: string[], options: { allowFailure?: boolean; input?: string } = {}): Promise<CliResult> {
        return runPulumi(this.dir, this.env, [...args, "--non-interactive"], { ...options, prefix: this.commandPrefix });
    }

    stackArgs(): string[] {
        return ["--stack", this.stack];
    }

    /**
     * Runs the program from its TypeScript sources through ts-node (`main: index.ts`, as before the
     * program shipped compiled) when `on`, else from dist/ as Pulumi.yaml says.
     */
    runFromSources(on: boolean): void {
        const file = path.join(this.dir, "Pulumi.yaml");
        const compiled = fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.yaml"), "utf8");
        const sources = compiled.replace(/^(\s+typescript:) false$/m, "$1 true").replace(/^main: dist\/index\.js$/m, "main: index.ts");
        if (sources === compiled) throw new Error("Pulumi.yaml no longer has `typescript: false` and `main: dist/index.js`");
        fs.writeFileSync(file, on ? sources : compiled);
    }

    /** Compiles the copy's sources into its dist/ (scripts/build.sh), after a test changed them. */
    build(): void {
        execFileSync("bash", [path.join(PROJECT_ROOT, "scripts", "build.sh"), this.dir], { env: this.env, stdio: ["ignore", "ignore", "pipe"] });
    }

    async setConfig(key: string, value: string, secret = false): Promise<void> {
        // The value goes through stdin so it never shows in a process list or a command log.
        await this.run(["config", "set", key, ...(secret ? ["--secret"] : []), ...this.stackArgs()], { input: value });
    }

    get configFile(): string {
        return path.join(this.dir, `Pulumi.${this.stack}.yaml`);
    }

    /** Rewrites the stack's `config:` map (secrets stay encrypted as they are). */
    editConfig(edit: (config: StackConfigMap) => void): void {
        const doc = parseYaml(fs.readFileSync(this.configFile, "utf8")) as { config: StackConfigMap; encryptionsalt?: string };
        edit(doc.config);
        fs.writeFileSync(this.configFile, stringifyYaml(doc));
    }

    /**
     * Sets throwaway secrets: the local stack's (loopback admins, the emulator token, the local SSH
     * key), or for a staging/production copy values of the right shape that a preview reads and
     * nothing ever uses.
     */
    async setLocalSecrets(): Promise<void> {
        const spec = parsePlatformConfig(readStackConfig(this.configFile));
        const values = new Map([...localSecretValues({ ...spec, environment: "local" }, RP_CACHE)].map(([key, value]) => [`release-platform:${key}`, value]));
        if (this.env.PULUMI_CONFIG_PASSPHRASE !== TEST_PASSPHRASE) {
            for (const [key, value] of values) await this.setConfig(key, value, true);
            return;
        }
        const secure = await (await secretKit()).encrypt(values);
        this.editConfig((config) => secure.forEach((ciphertext, key) => (config[key] = { secure: ciphertext })));
    }

    up(extra: string[] = []): Promise<CliResult> {
        return this.run(["up", "--yes", "--skip-preview", "--diff", ...this.stackArgs(), ...extra]);
    }

    preview(extra: string[] = [], options: { allowFailure?: boolean } = {}): Promise<CliResult> {
        return this.run(["preview", "--diff", ...this.stackArgs(), ...extra], options);
    }

    /** `preview --json`: the engine's own description of each planned step. */
    async previewJson(extra: string[] = []): Promise<PreviewJson> {
        const result = await this.run(["preview", "--json", ...this.stackArgs(), ...extra]);
        return JSON.parse(result.stdout) as PreviewJson;
    }

    async outputs(showSecrets = false): Promise<Record<string, unknown>> {
        const args = ["stack", "output", "--json", ...this.stackArgs(), ...(showSecrets ? ["--show-secrets"] : [])];
        return JSON.parse((await this.run(args)).stdout) as Record<string, unknown>;
    }

    /** The raw checkpoint as stored by the file backend (what an attacker with the state would see). */
    async exportedState(): Promise<string> {
        return (await this.run(["stack", "export", ...this.stackArgs()])).stdout;
    }

    /**
     * Teardown of a test stack: platform resources are protected (and databases retained on
     * delete), so unprotect everything, then destroy; failures are tolerated, the caller drops
     * what is left by hand.
     */
    async unprotectAndDestroy(): Promise<void> {
        await this.run(["state", "unprotect", "--all", "--yes", ...this.stackArgs()], { allowFailure: true });
        await this.run(["destroy", "--yes", "--skip-preview", ...this.stackArgs()], { allowFailure: true });
    }

    async destroy(): Promise<void> {
        await this.run(["destroy", "--yes", "--skip-preview", ...this.stackArgs()]);
    }

    remove(): void {
        void this.pve?.stop();
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

export interface PreviewStep {
    op: string;
    urn: string;
    diffReasons?: string[];
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string; inputDiff?: boolean }>;
    newState?: { type: string; inputs?: Record<string, unknown> };
    oldState?: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
}

export interface PreviewJson {
    steps: PreviewStep[];
    changeSummary: Record<string, number>;
    diagnostics?: { message: string; severity: string; urn?: string }[];
}

/** Steps that would change something (anything but `same`, and `read`: e.g. the StackReference the cluster guard reads). */
export function changingSteps(preview: PreviewJson): PreviewStep[] {
    return preview.steps.filter((s) => s.op !== "same" && s.op !== "read");
}
