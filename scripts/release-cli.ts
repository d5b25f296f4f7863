// What `npm run release:next` and `npm run rollback` share: arguments, the stack's config, the CLI.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { CONFIG_NAMESPACE, environmentSchema, releaseSchema, servicesSchema, type Environment, type ReleaseConfig, type ServicesConfig } from "../components/config";

export interface ReleaseCliArgs {
    stack: string;
    service: string | undefined;
    /** `--config-file` for every pulumi call (the local stack's rendered file by default). */
    configFile: string | undefined;
    /** `--up`: apply right away (`pulumi up`, which shows its preview first). */
    up: boolean;
}

export function parseReleaseCliArgs(argv: readonly string[], usage: string): ReleaseCliArgs {
    const values = new Map<string, string>();
    const up = argv.includes("--up");
    const rest = argv.filter((arg) => arg !== "--up");
    for (let i = 0; i < rest.length; i += 2) {
        const key = rest[i] ?? "";
        const value = rest[i + 1];
        if (!["--stack", "--service", "--config-file"].includes(key) || value === undefined) throw new Error(`usage: ${usage}`);
        values.set(key.slice(2), value);
    }
    const stack = values.get("stack");
    if (stack === undefined) throw new Error(`usage: ${usage}`);
    return { stack, service: values.get("service"), configFile: defaultConfigFile(stack, values.get("config-file")), up };
}

/** The stack's config file: `defaultConfigFile`, else Pulumi.<stack>.yaml, absolute against `cwd`. */
export function stackConfigPath(stack: string, given: string | undefined, cwd = process.cwd()): string {
    return path.resolve(cwd, defaultConfigFile(stack, given, cwd) ?? `Pulumi.${stack}.yaml`);
}

/** `--config-file` as given, else the local stack's rendered copy when there is one (`npm start` runs the local stack from it; releases edit it). */
export function defaultConfigFile(stack: string, given: string | undefined, cwd = process.cwd()): string | undefined {
    if (given !== undefined) return given;
    const rendered = path.resolve(cwd, ".pulumi-state", `Pulumi.${stack}.yaml`);
    return stack === "local" && fs.existsSync(rendered) ? rendered : undefined;
}

/**
 * The flags every call gets: the stack, and the config file for the commands that read the config
 * (`pulumi stack export|output` know no `--config-file` and fail on it).
 */
export function stackFlags(args: ReleaseCliArgs, command: readonly string[]): string[] {
    const readsConfig = command[0] !== "stack";
    return ["--stack", args.stack, ...(args.configFile && readsConfig ? ["--config-file", args.configFile] : []), "--non-interactive"];
}

/** Runs `pulumi` and returns stdout; a failure throws with its output. */
export function pulumi(args: ReleaseCliArgs, command: string[]): string {
    const result = spawnSync("pulumi", [...command, ...stackFlags(args, command)], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (result.status !== 0) throw new Error(`pulumi ${command.join(" ")} failed:\n${result.stderr}${result.stdout}`);
    return result.stdout;
}

/** Runs `pulumi` with its output shown as it comes; resolves with the exit code. */
export function pulumiStreaming(args: ReleaseCliArgs, command: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
        const child = spawn("pulumi", [...command, ...stackFlags(args, command)], { stdio: ["ignore", "inherit", "inherit"] });
        child.on("error", reject);
        child.on("close", (code) => resolve(code ?? 1));
    });
}

/** The stack's environment, services and release sections, checked by the same schemas as the program's. */
export function readReleaseConfig(args: ReleaseCliArgs): { environment: Environment; services: ServicesConfig; release: ReleaseConfig } {
    const all = JSON.parse(pulumi(args, ["config", "--json"])) as Record<string, { value?: unknown; objectValue?: unknown }>;
    const section = (name: string): unknown => all[`${CONFIG_NAMESPACE}:${name}`]?.objectValue;
    const environment = environmentSchema.parse(all[`${CONFIG_NAMESPACE}:environment`]?.value);
    return { environment, services: servicesSchema.parse(section("services")), release: releaseSchema.parse(section("release") ?? {}) };
}

/**
 * The policy pack at the stack's levels: `policies/config/<stack>.json` as `npm run preview` and
 * the workflows take it, else the one of the stack's environment. Every \`up\` a release command
 * runs goes through the same gates as the Deploy workflow's; the pack's floor policy refuses a
 * config written for another environment, so no laxer one can be passed.
 */
export function policyPackFlags(stack: string, environment: Environment, projectDir = process.cwd()): string[] {
    const byStack = path.join(projectDir, "policies", "config", `${stack}.json`);
    const config = fs.existsSync(byStack) ? byStack : path.join(projectDir, "policies", "config", `${environment}.json`);
    if (!fs.existsSync(config)) throw new Error(`no policy config for stack ${stack} or environment ${environment} (${byStack})`);
    return ["--policy-pack", path.join(projectDir, "policies"), "--policy-pack-config", config];
}

/** Sets a service's weights in the stack config through `pulumi config set` (numbers stay numbers). */
export function setWeights(args: ReleaseCliArgs, service: string, blue: number, green: number): void {
    for (const [colour, weight] of [["blue", blue], ["green", green]] as const) {
        pulumi(args, ["config", "set", "--path", `${CONFIG_NAMESPACE}:services.${service}.weights.${colour}`, String(weight), "--type", "int"]);
    }
}

export function fail(error: unknown): never {
    console.error((error as Error).message);
    process.exit(1);
}
