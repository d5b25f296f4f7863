// `npm run report -- --stack X`: the release report of a preview, as Markdown.
//
// Without --preview it runs the preview itself (scripts/preview.sh: the policy pack with the
// stack's policy config) with `--json` and the engine's event log, keeps both under
// .release-report/<stack>/, writes the report, and exits with the preview's exit code, so a
// failed or policy-blocked preview still yields its report. With --preview FILE (and --events FILE
// for the policy results) it reports on a recorded preview.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { compiledProjectRoot } from "../components/compiled";
import { parsePolicyViolations, parsePreviewDigest, renderReleaseReport, summarizeRelease, type PreviewDigest } from "./release-report";

const USAGE =
    "npm run report -- --stack <stack> [--preview <preview.json> [--events <events.jsonl>] [--exit-code <n>]] " +
    "[--out <report.md>] [--max-chars <n>] [--run-url <url>] [--commit <sha>] [-- <extra pulumi preview args>]";

const VALUE_FLAGS = ["--stack", "--preview", "--events", "--exit-code", "--out", "--max-chars", "--run-url", "--commit"] as const;
type Flag = (typeof VALUE_FLAGS)[number];

export interface ReportArgs {
    stack: string;
    preview?: string;
    events?: string;
    exitCode?: number;
    out?: string;
    maxChars?: number;
    runUrl?: string;
    commit?: string;
    /** Passed to the preview when this command runs it. */
    extra: string[];
}

export function parseReportArgs(argv: readonly string[]): ReportArgs {
    const split = argv.indexOf("--");
    const own = split === -1 ? [...argv] : argv.slice(0, split);
    const extra = split === -1 ? [] : argv.slice(split + 1);
    const values = new Map<Flag, string>();
    for (let i = 0; i < own.length; i += 2) {
        const flag = own[i] as Flag;
        const value = own[i + 1];
        if (!VALUE_FLAGS.includes(flag) || value === undefined) throw new Error(`usage: ${USAGE}`);
        values.set(flag, value);
    }
    const stack = values.get("--stack");
    if (stack === undefined || !/^[A-Za-z0-9._/-]+$/.test(stack)) throw new Error(`usage: ${USAGE}`);
    const int = (flag: Flag): number | undefined => {
        const raw = values.get(flag);
        if (raw === undefined) return undefined;
        if (!/^\d+$/.test(raw)) throw new Error(`${flag} must be a whole number, not ${JSON.stringify(raw)}`);
        return Number(raw);
    };
    const args: ReportArgs = { stack, extra };
    const set = <K extends keyof ReportArgs>(key: K, value: ReportArgs[K] | undefined) => {
        if (value !== undefined) args[key] = value;
    };
    set("preview", values.get("--preview"));
    set("events", values.get("--events"));
    set("exitCode", int("--exit-code"));
    set("out", values.get("--out"));
    set("maxChars", int("--max-chars"));
    set("runUrl", values.get("--run-url"));
    set("commit", values.get("--commit"));
    if (args.events !== undefined && args.preview === undefined) throw new Error("--events needs --preview");
    return args;
}

interface PreviewRun {
    stdout: string;
    /** The last part of what the CLI printed on stderr (for a preview that failed before its JSON). */
    stderrTail: string;
    exitCode: number;
    eventsFile: string;
}

/** Runs scripts/preview.sh with `--json` and the event log; stderr is shown as it comes. */
function runPreview(args: ReportArgs, dir: string): Promise<PreviewRun> {
    fs.mkdirSync(dir, { recursive: true });
    const eventsFile = path.join(dir, "events.jsonl");
    fs.rmSync(eventsFile, { force: true });
    const script = path.join(compiledProjectRoot(__filename) ?? path.resolve(__dirname, ".."), "scripts", "preview.sh");
    return new Promise((resolve, reject) => {
        const child = spawn("bash", [script, "--stack", args.stack, "--json", "--event-log", eventsFile, ...args.extra], {
            // `--event-log` is one of the CLI's debug flags.
            env: { ...process.env, PULUMI_DEBUG_COMMANDS: "true" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderrTail = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => {
            process.stderr.write(d);
            stderrTail = (stderrTail + d.toString()).slice(-4000);
        });
        child.on("error", reject);
        child.on("close", (code) => resolve({ stdout, stderrTail, exitCode: code ?? 1, eventsFile }));
    });
}

/** A digest that says only why there is none: the preview failed before printing its JSON. */
function failedDigest(stderrTail: string, reason: string): PreviewDigest {
    const lines = stderrTail
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "");
    return { diagnostics: [{ severity: "error", message: [reason, ...lines.slice(-15)].join("\n") }] };
}

async function main(): Promise<number> {
    const args = parseReportArgs(process.argv.slice(2));
    let digest: PreviewDigest;
    let eventLog = "";
    let exitCode = args.exitCode;

    if (args.preview !== undefined) {
        digest = parsePreviewDigest(fs.readFileSync(args.preview, "utf8"));
        if (args.events !== undefined) eventLog = fs.readFileSync(args.events, "utf8");
    } else {
        const dir = path.resolve(".release-report", args.stack);
        const run = await runPreview(args, dir);
        exitCode = run.exitCode;
        fs.writeFileSync(path.join(dir, "preview.json"), run.stdout);
        eventLog = fs.existsSync(run.eventsFile) ? fs.readFileSync(run.eventsFile, "utf8") : "";
        try {
            digest = parsePreviewDigest(run.stdout);
        } catch {
            digest = failedDigest(run.stderrTail, `the preview printed no plan (exit ${run.exitCode}); its last words:`);
        }
    }

    const summary = summarizeRelease({
        stack: args.stack,
        digest,
        violations: parsePolicyViolations(eventLog),
        ...(exitCode !== undefined ? { exitCode } : {}),
    });
    const report = renderReleaseReport(summary, {
        ...(args.maxChars !== undefined ? { maxChars: args.maxChars } : {}),
        ...(args.runUrl !== undefined ? { runUrl: args.runUrl } : {}),
        ...(args.commit !== undefined ? { commit: args.commit } : {}),
    });
    if (args.out !== undefined) {
        fs.mkdirSync(path.dirname(path.resolve(args.out)), { recursive: true });
        fs.writeFileSync(args.out, report);
        console.error(`report: ${args.out} (${report.length} characters)`);
    } else {
        process.stdout.write(report);
    }
    return exitCode ?? 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error: unknown) => {
            console.error((error as Error).message);
            process.exit(1);
        },
    );
}
