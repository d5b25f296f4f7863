// Runs the jobs of one of the repository's GitHub workflows on this machine, as a runner would: its
// `run:` steps in order through `bash -eo pipefail`, with the workflow's, job's and step's `env:`,
// each `${{ expression }}` taken from a table the caller gives (an expression it does not know is an
// error, so a changed workflow cannot pass unnoticed), `continue-on-error` honoured, and the `uses:`
// steps handed to the caller (checkout and setup are the workspace itself).
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { PROJECT_ROOT } from "./workspace";

interface WorkflowStep {
    name?: string;
    uses?: string;
    run?: string;
    with?: Record<string, string>;
    env?: Record<string, string>;
    if?: string;
    "continue-on-error"?: boolean;
}

interface WorkflowJob {
    name?: string;
    if?: string;
    needs?: string | string[];
    env?: Record<string, string>;
    steps: WorkflowStep[];
}

export interface Workflow {
    env?: Record<string, string>;
    jobs: Record<string, WorkflowJob>;
}

export function readWorkflow(file: string): Workflow {
    return parseYaml(fs.readFileSync(path.join(PROJECT_ROOT, ".github", "workflows", file), "utf8")) as Workflow;
}

export interface StepRun {
    job: string;
    step: string;
    /** The command line as the workflow writes it (`uses: <action>` for an action). */
    command: string;
    code: number;
    seconds: number;
    output: string;
}

export interface JobContext {
    cwd: string;
    /** The runner's environment (the workspace's backend and passphrase, PATH). */
    env: NodeJS.ProcessEnv;
    /** `${{ ... }}` expressions (trimmed) and their values. */
    expressions: Record<string, string>;
    /** An action step (`uses:`); returns a line for the summary, or throws. */
    action: (uses: string, inputs: Record<string, string>) => string;
}

/** Replaces every `${{ expr }}` of `text` from the table; an unknown expression throws, naming it. */
export function expand(text: string, expressions: Record<string, string>): string {
    return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_all, expr: string) => {
        const value = expressions[expr];
        if (value === undefined) throw new Error(`the workflow uses \${{ ${expr} }}, which the rehearsal does not know: add it to its expressions`);
        return value;
    });
}

function expandAll(values: Record<string, string> | undefined, expressions: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(values ?? {}).map(([key, value]) => [key, expand(String(value), expressions)]));
}

/** Runs a command to its end: its exit code, stdout and stderr as one text, and its seconds. */
export function runCommand(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string; seconds: number }> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { cwd, env });
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, output, seconds: (performance.now() - started) / 1000 }));
    });
}

/** A `run:` step as GitHub's runner runs it. */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number; output: string; seconds: number }> {
    return runCommand("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd, env);
}

/**
 * Runs one job of `workflow`: every step in order; a failing step without `continue-on-error`
 * ends the job (the steps after it do not run, but for those with `if: ${{ !cancelled() }}`).
 * Resolves with each step's result and whether the job succeeded.
 */
export async function runJob(workflow: Workflow, jobId: string, context: JobContext): Promise<{ ok: boolean; steps: StepRun[] }> {
    const job = workflow.jobs[jobId];
    if (!job) throw new Error(`the workflow has no job ${jobId}`);
    if (job.if !== undefined && expand(`\${{ ${job.if} }}`, context.expressions) !== "true") return { ok: false, steps: [] };
    const env = { ...context.env, ...expandAll(workflow.env, context.expressions), ...expandAll(job.env, context.expressions) };
    const steps: StepRun[] = [];
    let failed = false;
    for (const step of job.steps) {
        const always = step.if !== undefined && /!cancelled\(\)|always\(\)/.test(step.if);
        if (failed && !always) continue;
        const name = step.name ?? step.uses ?? step.run?.split("\n")[0] ?? "(step)";
        const started = performance.now();
        if (step.uses !== undefined) {
            const line = context.action(step.uses, expandAll(step.with, context.expressions));
            steps.push({ job: jobId, step: name, command: `uses: ${step.uses}`, code: 0, seconds: (performance.now() - started) / 1000, output: line });
            continue;
        }
        const script = step.run ?? "";
        const result = await bash(script, context.cwd, { ...env, ...expandAll(step.env, context.expressions) });
        steps.push({ job: jobId, step: name, command: script.trim(), code: result.code, seconds: (performance.now() - started) / 1000, output: result.output });
        if (result.code !== 0 && step["continue-on-error"] !== true) failed = true;
    }
    return { ok: !failed, steps };
}
