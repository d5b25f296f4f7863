// The bench's floor: the cheapest Pulumi program there is (one component resource in plain
// JavaScript), previewed the way test/support/workspace.ts previews the real one: the same CLI,
// a file backend of its own, the same passphrase and environment, the same command prefix.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_ROOT, projectEnv, runPulumi, type CliResult } from "../test/support/workspace";

const PROGRAM = `"use strict";
const pulumi = require("@pulumi/pulumi");

class C extends pulumi.ComponentResource {
    constructor(name, opts) {
        super("bench:floor:C", name, {}, opts);
        this.registerOutputs({});
    }
}

new C("c");
`;

const PULUMI_YAML = `name: bench-floor
description: The bench's floor, one component resource in plain JavaScript.
runtime:
  name: nodejs
  options:
    typescript: false
main: index.js
`;

export class FloorProject {
    readonly stack = "floor";

    private constructor(
        readonly dir: string,
        private readonly env: NodeJS.ProcessEnv,
        private readonly commandPrefix: string[],
    ) {}

    /** A temp project with the program, node_modules linked to the project's, a `file://` backend inside it and one initialised stack. */
    static async create(commandPrefix: string[]): Promise<FloorProject> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-bench-floor-"));
        const pulumiVersion = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies["@pulumi/pulumi"];
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), PULUMI_YAML);
        fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify({ name: "bench-floor", private: true, main: "index.js", dependencies: { "@pulumi/pulumi": pulumiVersion } }, null, 2)}\n`);
        fs.writeFileSync(path.join(dir, "index.js"), PROGRAM);
        fs.writeFileSync(path.join(dir, "Pulumi.floor.yaml"), "config: {}\n");
        fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(dir, "node_modules"));
        const floor = new FloorProject(dir, projectEnv(dir), commandPrefix);
        await floor.run(["stack", "init", floor.stack, "--secrets-provider", "passphrase"]);
        return floor;
    }

    run(args: string[]): Promise<CliResult> {
        return runPulumi(this.dir, this.env, [...args, "--non-interactive"], { prefix: this.commandPrefix });
    }

    preview(): Promise<CliResult> {
        return this.run(["preview", "--stack", this.stack]);
    }

    /** Steps of `preview --json` (the stack and the component). */
    async steps(): Promise<number> {
        const result = await this.run(["preview", "--json", "--stack", this.stack]);
        return (JSON.parse(result.stdout) as { steps: unknown[] }).steps.length;
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
