// `npm run evidence -- --stack X`: collects what machines know about the release candidate into
// .release-evidence/<stack>.json, the file the program records on the release gate.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parsePlatformConfig } from "../components/config";
import {
    collectEvidence,
    coverageFromSummary,
    DEFAULT_GITHUB_API_URL,
    evidenceSummary,
    fileSources,
    GitHubClient,
    githubSources,
    parseBackupRecords,
    parseRepo,
    stagingEvidence,
    type BackupRecordLike,
    type EvidenceSources,
    type StackDatabase,
} from "../components/release/evidence-collector";
import { RECORDS_FILE } from "../components/release/backup-job";
import { readRecords } from "./backup";
import type { ReleaseEvidence } from "../components/release/evidence";
import { readStackConfig } from "./local-secrets";
import { stackConfigPath } from "./release-cli";

export const USAGE = `usage: npm run evidence -- --stack <stack> [options]
  --out FILE              where to write (default .release-evidence/<stack>.json)
  --commit SHA            the commit released (default git rev-parse HEAD, else GITHUB_SHA)
  --pr N                  its pull request (default GITHUB_PR_NUMBER, the CI event, else GitHub's commits/{sha}/pulls)
  --repo OWNER/NAME       the GitHub repository (default GITHUB_REPOSITORY)
  --inputs DIR            read GitHub's answers from files in DIR instead of the API (default without GITHUB_TOKEN: .release-evidence/inputs)
  --allow-missing-alerts  record the alerts even if Dependabot or code scanning is not enabled
  --coverage FILE         istanbul coverage-summary.json (default <inputs>/coverage-summary.json when reading files)
  --backups-file FILE     backup records (JSON list) instead of the stack's \`backups\` output
                          (the backup job's records in <backups location>/backup-records.json are always read too)
  --staging-stack NAME    the stack whose \`services\` output is "staging" (default staging; none for the local stack)
  --staging-file FILE     that output as a JSON file instead
  --config-file FILE      the stack's config (default Pulumi.<stack>.yaml; the local stack's rendered copy in .pulumi-state)
  --now ISO               the collection time (tests)`;

export class UsageError extends Error {}

export interface EvidenceArgs {
    stack: string;
    out?: string;
    commit?: string;
    pr?: number;
    repo?: string;
    inputs?: string;
    allowMissingAlerts: boolean;
    coverage?: string;
    backupsFile?: string;
    stagingStack?: string;
    stagingFile?: string;
    configFile?: string;
    now?: Date;
}

const VALUE_FLAGS = ["stack", "out", "commit", "pr", "repo", "inputs", "coverage", "backups-file", "staging-stack", "staging-file", "config-file", "now"] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** Parses the command line; every mistake is a UsageError naming the flag. */
export function parseEvidenceArgs(argv: readonly string[]): EvidenceArgs {
    const values = new Map<ValueFlag, string>();
    let allowMissingAlerts = false;
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i] ?? "";
        if (arg === "--allow-missing-alerts") {
            allowMissingAlerts = true;
            continue;
        }
        const match = /^--([a-z-]+)(?:=(.*))?$/s.exec(arg);
        const flag = match?.[1] as ValueFlag | undefined;
        if (!match || flag === undefined || !VALUE_FLAGS.includes(flag)) throw new UsageError(`unknown argument ${JSON.stringify(arg)}\n${USAGE}`);
        const value = match[2] ?? argv[++i];
        if (value === undefined || value === "" || (match[2] === undefined && value.startsWith("--"))) throw new UsageError(`--${flag} needs a value\n${USAGE}`);
        if (values.has(flag)) throw new UsageError(`--${flag} given twice`);
        values.set(flag, value);
    }
    const stack = values.get("stack");
    if (stack === undefined) throw new UsageError(`--stack is required\n${USAGE}`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`--stack: expected a stack name such as production (not org/project/stack), got ${JSON.stringify(stack)}`);

    const commit = values.get("commit")?.toLowerCase();
    if (commit !== undefined && !/^[0-9a-f]{40}$/.test(commit)) throw new UsageError(`--commit: expected a full 40-character commit sha, got ${JSON.stringify(values.get("commit"))}`);
    const prText = values.get("pr");
    const pr = prText === undefined ? undefined : Number(prText);
    if (pr !== undefined && (!Number.isInteger(pr) || pr < 1)) throw new UsageError(`--pr: expected a pull request number, got ${JSON.stringify(prText)}`);
    const nowText = values.get("now");
    if (nowText !== undefined && (!ISO_TIME.test(nowText) || Number.isNaN(Date.parse(nowText)))) {
        throw new UsageError(`--now: expected an ISO 8601 time with a zone, e.g. 2026-03-02T10:00:00Z, got ${JSON.stringify(nowText)}`);
    }
    const repo = values.get("repo");
    if (repo !== undefined) parseRepo(repo, "--repo");

    return {
        stack,
        out: values.get("out"),
        commit,
        pr,
        repo,
        inputs: values.get("inputs"),
        allowMissingAlerts,
        coverage: values.get("coverage"),
        backupsFile: values.get("backups-file"),
        stagingStack: values.get("staging-stack"),
        stagingFile: values.get("staging-file"),
        configFile: values.get("config-file"),
        now: nowText === undefined ? undefined : new Date(nowText),
    };
}

/** The pull request from the CI environment: GITHUB_PR_NUMBER, else the event payload of a pull_request run. */
export function pullRequestFromEnv(env: NodeJS.ProcessEnv, readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): number | undefined {
    const fromVariable = env.GITHUB_PR_NUMBER;
    if (fromVariable !== undefined && fromVariable !== "") {
        const n = Number(fromVariable);
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`GITHUB_PR_NUMBER: expected a pull request number, got ${JSON.stringify(fromVariable)}`);
        return n;
    }
    if (!env.GITHUB_EVENT_PATH) return undefined;
    try {
        const event = JSON.parse(readFile(env.GITHUB_EVENT_PATH)) as { pull_request?: { number?: unknown } };
        const n = event.pull_request?.number;
        return typeof n === "number" && Number.isInteger(n) ? n : undefined;
    } catch {
        return undefined; // no event file or not JSON: GitHub's lookup by commit still works
    }
}

function git(args: string[], cwd: string): string | undefined {
    try {
        return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return undefined;
    }
}

/**
 * --commit, else the checkout's own commit (`git rev-parse HEAD`: the code the program runs), else
 * GITHUB_SHA; the ref from GITHUB_REF where it describes that commit, else the checked-out branch.
 */
export function resolveCommit(args: EvidenceArgs, env: NodeJS.ProcessEnv, cwd: string): { sha: string; ref?: string } {
    const fromEnv = env.GITHUB_SHA?.trim().toLowerCase();
    const fromGit = args.commit === undefined ? git(["rev-parse", "HEAD"], cwd) : undefined;
    if (args.commit === undefined && !fromGit && fromEnv && !/^[0-9a-f]{40}$/.test(fromEnv)) throw new UsageError(`GITHUB_SHA: expected a full commit sha, got ${JSON.stringify(env.GITHUB_SHA)}`);
    const sha = args.commit ?? (fromGit || fromEnv);
    if (!sha || !/^[0-9a-f]{40}$/.test(sha)) throw new UsageError("cannot tell the commit: pass --commit SHA (no git checkout, and no GITHUB_SHA)");
    // The ref only where it describes that very commit.
    const ref = args.commit !== undefined ? undefined : sha === fromEnv && env.GITHUB_REF ? env.GITHUB_REF : fromGit ? git(["symbolic-ref", "-q", "HEAD"], cwd) : undefined;
    return { sha, ...(ref ? { ref } : {}) };
}

/** The CI workflow run a `workflow_run` event follows (its id in the event payload), else undefined. */
export function followedRunFromEnv(env: NodeJS.ProcessEnv, readFile: (file: string) => string = (f) => fs.readFileSync(f, "utf8")): number | undefined {
    if (env.GITHUB_EVENT_NAME !== "workflow_run" || !env.GITHUB_EVENT_PATH) return undefined;
    const event = JSON.parse(readFile(env.GITHUB_EVENT_PATH)) as { workflow_run?: { id?: unknown } };
    const id = event.workflow_run?.id;
    if (typeof id !== "number" || !Number.isInteger(id) || id < 1) throw new UsageError(`${env.GITHUB_EVENT_PATH}: a workflow_run event without workflow_run.id`);
    return id;
}

/** The stack's config file: --config-file, else the local stack's rendered copy (npm start), else Pulumi.<stack>.yaml. */
export function stackConfigFile(args: EvidenceArgs, cwd: string): string {
    return stackConfigPath(args.stack, args.configFile, cwd);
}

function readJsonFile(file: string, what: string): unknown {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (error) {
        throw new UsageError(`${what}: cannot read ${file} (${(error as Error).message})`);
    }
    try {
        return JSON.parse(text) as unknown;
    } catch (error) {
        throw new UsageError(`${what}: ${file} is not JSON (${(error as Error).message})`);
    }
}

/** A stack's outputs through the CLI (secrets stay hidden; none is needed here). */
function stackOutputs(stack: string, env: NodeJS.ProcessEnv): Record<string, unknown> {
    try {
        const text = execFileSync("pulumi", ["stack", "output", "--json", "--stack", stack, "--non-interactive"], {
            env,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            maxBuffer: 64 * 1024 * 1024,
        });
        return JSON.parse(text) as Record<string, unknown>;
    } catch (error) {
        const stderr = String((error as { stderr?: unknown }).stderr ?? "").trim();
        throw new Error(`pulumi stack output --stack ${stack} failed${stderr ? `: ${stderr.split("\n").slice(-3).join(" ")}` : `: ${(error as Error).message}`}`);
    }
}

function chooseSources(args: EvidenceArgs, env: NodeJS.ProcessEnv, cwd: string): { sources: EvidenceSources; inputsDir?: string } {
    // An explicit folder of files wins over a token in the environment.
    if (args.inputs === undefined && env.GITHUB_TOKEN) {
        const repoText = args.repo ?? env.GITHUB_REPOSITORY;
        if (!repoText) throw new UsageError("GITHUB_TOKEN is set but the repository is unknown: pass --repo owner/name or set GITHUB_REPOSITORY");
        const repo = parseRepo(repoText, args.repo === undefined ? "GITHUB_REPOSITORY" : "--repo");
        const client = new GitHubClient({ apiUrl: env.GITHUB_API_URL || DEFAULT_GITHUB_API_URL, token: env.GITHUB_TOKEN });
        const followsRunId = followedRunFromEnv(env);
        return {
            sources: githubSources(client, repo, { allowMissingAlerts: args.allowMissingAlerts, ownRunId: env.GITHUB_RUN_ID, ...(followsRunId === undefined ? {} : { followsRunId }) }),
        };
    }
    const inputsDir = path.resolve(cwd, args.inputs ?? path.join(".release-evidence", "inputs"));
    if (args.inputs !== undefined && !fs.existsSync(inputsDir)) throw new UsageError(`--inputs: ${inputsDir} does not exist`);
    return { sources: fileSources(inputsDir), inputsDir };
}

function stagingOf(args: EvidenceArgs, env: NodeJS.ProcessEnv, notes: string[]): ReleaseEvidence["staging"] {
    const stagingStack = args.stagingStack ?? "staging";
    if (args.stagingFile !== undefined) return stagingEvidence(stagingStack, "file", readJsonFile(args.stagingFile, "--staging-file"));
    // Staging has no staging before it, nor has the local stack (unless --staging-stack names one).
    if (args.stack === stagingStack || (args.stack === "local" && args.stagingStack === undefined)) return null;
    try {
        const services = stackOutputs(stagingStack, env).services;
        if (services === undefined) {
            notes.push(`the ${stagingStack} stack has no services output yet`);
            return null;
        }
        return stagingEvidence(stagingStack, "stack", services);
    } catch (error) {
        notes.push(`staging not read: ${(error as Error).message}`);
        return null;
    }
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<void> {
    const args = parseEvidenceArgs(argv);
    // The local stack's passphrase is not a secret (see scripts/start-local.sh); other stacks bring theirs.
    if (args.stack === "local" && env.PULUMI_CONFIG_PASSPHRASE === undefined) env = { ...env, PULUMI_CONFIG_PASSPHRASE: "local-stack" };

    const configFile = stackConfigFile(args, cwd);
    if (!fs.existsSync(configFile)) throw new UsageError(`no config for stack ${args.stack}: ${configFile} does not exist (pass --config-file)`);
    const spec = parsePlatformConfig(readStackConfig(configFile));
    const databases: StackDatabase[] = spec.databases.servers.flatMap((server) => server.databases.map((db) => ({ server: server.name, database: db.database })));

    const commit = resolveCommit(args, env, cwd);
    const pullRequest = args.pr ?? pullRequestFromEnv(env);
    const { sources, inputsDir } = chooseSources(args, env, cwd);

    const notes: string[] = [];
    // The scheduled job's records (npm run backup) beside the ones releases took (the stack's `backups` output).
    const location = spec.databases.backups.location;
    let scheduled: BackupRecordLike[] = [];
    try {
        scheduled = parseBackupRecords(readRecords(location), `${location}/${RECORDS_FILE}`);
    } catch (error) {
        notes.push(`the backup job's records were not read: ${(error as Error).message}`);
    }
    const backupRecords = [
        ...(args.backupsFile !== undefined
            ? parseBackupRecords(readJsonFile(args.backupsFile, "--backups-file"), args.backupsFile)
            : parseBackupRecords(stackOutputs(args.stack, env).backups, `the ${args.stack} stack's backups output`)),
        ...scheduled,
    ];

    const staging = stagingOf(args, env, notes);

    const defaultCoverage = inputsDir === undefined ? undefined : path.join(inputsDir, "coverage-summary.json");
    const coverageFile = args.coverage ?? (defaultCoverage !== undefined && fs.existsSync(defaultCoverage) ? defaultCoverage : undefined);
    const coveragePercent = coverageFile === undefined ? undefined : coverageFromSummary(readJsonFile(coverageFile, "--coverage"), coverageFile);

    const collected = await collectEvidence({
        stack: args.stack,
        now: args.now ?? new Date(),
        commit,
        pullRequest,
        sources,
        databases,
        backupRecords,
        staging,
        coveragePercent,
    });

    const out = path.resolve(cwd, args.out ?? path.join(".release-evidence", `${args.stack}.json`));
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(`${out}.tmp`, `${JSON.stringify(collected.evidence, null, 2)}\n`);
    fs.renameSync(`${out}.tmp`, out);

    console.log(`release evidence for ${args.stack} (from ${sources.description}) written to ${path.relative(cwd, out) || out}`);
    for (const line of evidenceSummary(collected.evidence)) console.log(`  ${line}`);
    for (const note of [...collected.notes, ...notes]) console.log(`  note: ${note}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        console.error(`evidence: ${(error as Error).message}`);
        process.exitCode = error instanceof UsageError ? 2 : 1;
    });
}
