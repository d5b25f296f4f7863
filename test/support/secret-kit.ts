// Throwaway test secrets, encrypted once per machine instead of once per workspace. Every test
// workspace uses the same passphrase (TEST_PASSPHRASE) and, through this kit, the same passphrase
// salt, so a value encrypted once (`pulumi config set --secret`, value on stdin, never in a process
// list) decrypts in every workspace: `pulumi stack init` keeps a salt the stack file already has.
// The kit is a small Pulumi project below test/.tmp/ (git-ignored) with one stack whose config holds
// each value once, under a key named after its sha256; a lock file serialises test processes.
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";

/** Runs the real CLI in `cwd` with `env` (the workspace's runPulumi, passed in to keep this module free of it). */
export type PulumiRunner = (cwd: string, env: NodeJS.ProcessEnv, args: string[], options: { input?: string }) => Promise<unknown>;

interface KitFile {
    encryptionsalt?: string;
    config?: Record<string, { secure?: string }>;
}

const KIT_STACK = "kit";
const NAMESPACE = "test-secret-kit";

function keyOf(value: string): string {
    return `${NAMESPACE}:v${createHash("sha256").update(value).digest("hex").slice(0, 32)}`;
}

/** Whether the process that wrote `lock` still runs (a lock without a pid yet counts as held). */
function holderAlive(lock: string): boolean {
    const pid = Number(fs.readFileSync(lock, { encoding: "utf8", flag: "a+" }).trim());
    if (!Number.isInteger(pid) || pid <= 0) return true;
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code !== "ESRCH";
    }
}

export class SecretKit {
    private constructor(
        private readonly dir: string,
        private readonly env: NodeJS.ProcessEnv,
        private readonly run: PulumiRunner,
    ) {}

    /** The kit in `dir` (made on first use), encrypting with `passphrase`. */
    static async open(dir: string, passphrase: string, baseEnv: NodeJS.ProcessEnv, run: PulumiRunner): Promise<SecretKit> {
        const env: NodeJS.ProcessEnv = { ...baseEnv, PULUMI_BACKEND_URL: `file://${path.join(dir, ".state")}`, PULUMI_CONFIG_PASSPHRASE: passphrase };
        const kit = new SecretKit(dir, env, run);
        await kit.locked(async () => {
            if (fs.existsSync(kit.stackFile)) return;
            fs.mkdirSync(path.join(dir, ".state"), { recursive: true });
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${NAMESPACE}\nruntime: nodejs\n`);
            await run(dir, env, ["stack", "init", KIT_STACK, "--secrets-provider", "passphrase", "--non-interactive"], {});
        });
        return kit;
    }

    private get stackFile(): string {
        return path.join(this.dir, `Pulumi.${KIT_STACK}.yaml`);
    }

    private read(): KitFile {
        return (parseYaml(fs.readFileSync(this.stackFile, "utf8")) as KitFile | null) ?? {};
    }

    /** The salt every workspace's stack file starts with. */
    salt(): string {
        const salt = this.read().encryptionsalt;
        if (salt === undefined) throw new Error(`${this.stackFile} has no encryptionsalt`);
        return salt;
    }

    /** The `secure:` ciphertext of each value, encrypting the ones the kit does not hold yet. */
    async encrypt(values: ReadonlyMap<string, string>): Promise<Map<string, string>> {
        return this.locked(async () => {
            let held = this.read().config ?? {};
            for (const value of new Set(values.values())) {
                if (held[keyOf(value)]?.secure !== undefined) continue;
                await this.run(this.dir, this.env, ["config", "set", keyOf(value), "--secret", "--stack", KIT_STACK, "--non-interactive"], { input: value });
                held = this.read().config ?? {};
            }
            const secure = new Map<string, string>();
            for (const [key, value] of values) {
                const ciphertext = held[keyOf(value)]?.secure;
                if (ciphertext === undefined) throw new Error(`the secret kit did not store the value for ${key}`);
                secure.set(key, ciphertext);
            }
            return secure;
        });
    }

    /** Runs `work` holding the kit's lock file (other test processes wait; a dead holder's lock is taken over). */
    private async locked<T>(work: () => Promise<T>): Promise<T> {
        fs.mkdirSync(this.dir, { recursive: true });
        const lock = path.join(this.dir, ".lock");
        for (let waited = 0; ; waited += 100) {
            try {
                fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
                break;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
                if (!holderAlive(lock)) fs.rmSync(lock, { force: true });
                else if (waited > 120_000) throw new Error(`${lock} is held by a live process for two minutes`);
                else await new Promise((resolve) => setTimeout(resolve, 100));
            }
        }
        try {
            return await work();
        } finally {
            fs.rmSync(lock, { force: true });
        }
    }
}
