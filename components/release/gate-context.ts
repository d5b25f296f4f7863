// What the program reads for the release gate beside its config: the evidence file and the commit it runs from.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { treeDigest } from "../compiled";
import { defaultEvidenceFile, parseEvidenceText, type ReleaseGateContext } from "./gate-builder";
import type { CommitSource } from "./gate-inputs";


/**
 * The commit the program runs from: `RELEASE_COMMIT` when set (an override for the local stack and
 * tests, recorded as such), else `git rev-parse HEAD` of the project directory (the code that
 * actually runs), else `GITHUB_SHA` (a copy of the project without `.git`), else "".
 */
export function releaseCommit(env: NodeJS.ProcessEnv, projectDir: string): { sha: string; from: CommitSource } {
    const override = env.RELEASE_COMMIT?.trim();
    if (override) return { sha: override.toLowerCase(), from: "RELEASE_COMMIT" };
    try {
        const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
        if (head) return { sha: head, from: "git" };
    } catch {
        // not a git checkout (e.g. a copy of the project)
    }
    const fromCi = env.GITHUB_SHA?.trim();
    return fromCi ? { sha: fromCi.toLowerCase(), from: "GITHUB_SHA" } : { sha: "", from: "none" };
}

/**
 * The evidence file (`RELEASE_EVIDENCE_FILE`, else `.release-evidence/<stack>.json`, relative to
 * the project directory) read and checked, and the commit.
 */
export function readReleaseGateContext(stack: string, projectDir: string, env: NodeJS.ProcessEnv): ReleaseGateContext {
    const evidenceFile = env.RELEASE_EVIDENCE_FILE?.trim() || defaultEvidenceFile(stack);
    const absolute = path.resolve(projectDir, evidenceFile);
    let text: string | undefined;
    try {
        text = fs.readFileSync(absolute, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw new Error(`RELEASE_EVIDENCE_FILE: cannot read ${absolute}: ${(error as Error).message}`);
    }
    const commit = releaseCommit(env, projectDir);
    return { stack, evidenceFile, read: parseEvidenceText(text, stack, evidenceFile), commit: commit.sha, commitFrom: commit.from, programDigest: programDigest(projectDir) };
}

/**
 * sha256 over the program's sources as they are on disk (`index.ts` and every file below
 * `components/`, by path and content): a code change makes an update a release, never a rollback.
 */
export function programDigest(projectDir: string): string {
    return treeDigest(projectDir, ["index.ts", "components"]);
}
