// A fixture program of test/integration/fixtures/<name> in a temp dir laid out like the repository, driven through the real CLI.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { PROJECT_ROOT, runPulumi, type CliResult, type PreviewJson } from "./workspace";

/**
 * One stack of a fixture program, with its own file backend. The program sits at the same depth
 * as in the repository, so its relative imports of ../../../../components resolve.
 */
export class FixtureStack {
    readonly dir: string;
    private readonly env: NodeJS.ProcessEnv;

    constructor(
        root: string,
        readonly fixture: string,
        readonly project: string,
        readonly stack = "test",
    ) {
        const source = path.join(PROJECT_ROOT, "test", "integration", "fixtures", fixture);
        this.dir = path.join(root, "test", "integration", "fixtures", fixture);
        fs.mkdirSync(this.dir, { recursive: true });
        for (const file of ["Pulumi.yaml", "index.ts"]) fs.copyFileSync(path.join(source, file), path.join(this.dir, file));
        fs.cpSync(path.join(PROJECT_ROOT, "components"), path.join(root, "components"), { recursive: true });
        for (const file of ["package.json", "tsconfig.json"]) fs.copyFileSync(path.join(PROJECT_ROOT, file), path.join(root, file));
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"));
        fs.mkdirSync(path.join(root, ".state"));
        this.env = {
            ...process.env,
            PULUMI_BACKEND_URL: `file://${path.join(root, ".state")}`,
            PULUMI_CONFIG_PASSPHRASE: "test",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_NODEJS_TRANSPILE_ONLY: "true",
            NO_COLOR: "1",
        };
    }

    get configFile(): string {
        return path.join(this.dir, `Pulumi.${this.stack}.yaml`);
    }

    run(args: string[], options: { allowFailure?: boolean; input?: string } = {}): Promise<CliResult> {
        return runPulumi(this.dir, this.env, [...args, "--stack", this.stack, "--non-interactive"], options);
    }

    /** Creates the stack (passphrase secrets). */
    init(): Promise<CliResult> {
        return this.run(["stack", "init", "--secrets-provider", "passphrase"]);
    }

    /** Sets `<project>:<key>` values in the stack file; the encrypted values and the salt stay as they are. */
    writeConfig(values: Record<string, unknown>): void {
        const doc = (fs.existsSync(this.configFile) ? parseYaml(fs.readFileSync(this.configFile, "utf8")) : {}) as { config?: Record<string, unknown> };
        doc.config = { ...doc.config, ...Object.fromEntries(Object.entries(values).map(([key, value]) => [`${this.project}:${key}`, value])) };
        fs.writeFileSync(this.configFile, stringifyYaml(doc));
    }

    /** A secret config value, through stdin (never on a command line). */
    setSecret(key: string, value: string): Promise<CliResult> {
        return this.run(["config", "set", "--secret", `${this.project}:${key}`], { input: value });
    }

    up(options: { allowFailure?: boolean } = {}): Promise<CliResult> {
        return this.run(["up", "--yes", "--skip-preview", "--diff"], options);
    }

    async previewJson(extra: string[] = []): Promise<PreviewJson> {
        return JSON.parse((await this.run(["preview", "--json", ...extra])).stdout) as PreviewJson;
    }
}
