// The real evidence collector (scripts/evidence.ts) run offline for a workspace's stack: GitHub's
// answers, the backups and staging's services written as files, the evidence read back and checked.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { releaseEvidenceSchema, type ReleaseEvidence } from "../../components/release/evidence";
import { compiledScript, type Workspace } from "./workspace";

/** A backup record as the stack's `backups` output lists it (the fields the collector reads). */
export interface BackupRecordInput {
    server: string;
    database: string;
    time: string;
    file?: string;
}

/** Per service, what a stack's `services` output says (the shape `--staging-file` takes). */
export type ServicesOutputInput = Record<string, { blue: { version: string; weight: number }; green: { version: string; weight: number } }>;

/**
 * The collector's inputs. Each GitHub-shaped member becomes its file in the inputs folder
 * (`ci-status.json`, `check-runs.json`, …); a member left out is a missing file (that source `none`).
 */
export interface EvidenceInputs {
    commit: string;
    /** The collection time (`--now`). */
    now: string;
    pullRequest?: number;
    ciStatus?: unknown;
    checkRuns?: unknown;
    dependabotAlerts?: unknown;
    codeScanningAlerts?: unknown;
    reviews?: unknown;
    /** istanbul coverage-summary.json. */
    coverageSummary?: unknown;
    backups: BackupRecordInput[];
    /** Staging's `services` output; left out: no staging (`null` in the evidence). */
    staging?: ServicesOutputInput;
}

const INPUT_FILES: [keyof EvidenceInputs, string][] = [
    ["ciStatus", "ci-status.json"],
    ["checkRuns", "check-runs.json"],
    ["dependabotAlerts", "dependabot-alerts.json"],
    ["codeScanningAlerts", "code-scanning-alerts.json"],
    ["reviews", "reviews.json"],
    ["coverageSummary", "coverage-summary.json"],
];

export interface CollectedRun {
    evidence: ReleaseEvidence;
    /** Where the program reads it (`.release-evidence/<stack>.json` in the workspace). */
    file: string;
    /** The collector's summary lines. */
    stdout: string;
}

/**
 * Runs `npm run evidence -- --stack <stack>` as a person would, offline, in the workspace (its
 * backend and passphrase; no GITHUB_* or RELEASE_* from this process). Writes the evidence where the
 * program reads it by default and returns it parsed; throws with the collector's output on failure.
 */
export function collectWorkspaceEvidence(ws: Workspace, inputs: EvidenceInputs): CollectedRun {
    const base = fs.mkdtempSync(path.join(ws.dir, ".evidence-inputs-"));
    const inputsDir = path.join(base, "inputs");
    fs.mkdirSync(inputsDir);
    for (const [key, file] of INPUT_FILES) {
        if (inputs[key] !== undefined) fs.writeFileSync(path.join(inputsDir, file), JSON.stringify(inputs[key]));
    }
    const backupsFile = path.join(base, "backups.json");
    fs.writeFileSync(backupsFile, JSON.stringify(inputs.backups));
    const args = ["--stack", ws.stack, "--config-file", ws.configFile, "--inputs", inputsDir, "--backups-file", backupsFile, "--commit", inputs.commit, "--now", inputs.now];
    if (inputs.pullRequest !== undefined) args.push("--pr", String(inputs.pullRequest));
    if (inputs.staging !== undefined) {
        const stagingFile = path.join(base, "staging.json");
        fs.writeFileSync(stagingFile, JSON.stringify(inputs.staging));
        args.push("--staging-file", stagingFile);
    }
    const env = Object.fromEntries(Object.entries(ws.env).filter(([key]) => !key.startsWith("GITHUB_") && !key.startsWith("RELEASE_")));
    try {
        const result = spawnSync(process.execPath, [compiledScript("evidence"), ...args], { cwd: ws.dir, env, encoding: "utf8", timeout: 120_000 });
        if (result.status !== 0) throw new Error(`evidence collector exited ${String(result.status)}:\n${result.stdout}${result.stderr}`);
        const file = path.join(ws.dir, ".release-evidence", `${ws.stack}.json`);
        const evidence = releaseEvidenceSchema.parse(JSON.parse(fs.readFileSync(file, "utf8")));
        return { evidence, file, stdout: result.stdout };
    } finally {
        fs.rmSync(base, { recursive: true, force: true });
    }
}
