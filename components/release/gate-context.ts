// What the program reads for the release gate beside its config: the evidence file and the commit it runs from.
import { execFileSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { defaultEvidenceFile, parseEvidenceText, type ReleaseGateContext } from "./gate-builder";

/** `RELEASE_COMMIT`, else `GITHUB_SHA`, else `git rev-parse HEAD` in the project directory, else "". */
export function releaseCommit(env: NodeJS.ProcessEnv, projectDir: string): string {
    const given = env.RELEASE_COMMIT?.trim() || env.GITHUB_SHA?.trim();
    if (given) return given.toLowerCase();
    try {
        return execFileSync("git", ["rev-parse", "HEAD"], { cwd: projectDir, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
        return ""; // not a git checkout (e.g. a copy of the project)
    }
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
    return { stack, evidenceFile, read: parseEvidenceText(text, stack, evidenceFile), commit: releaseCommit(env, projectDir), programDigest: programDigest(projectDir) };
}

/**
 * sha256 over the program's sources as they are on disk (`index.ts` and every file below
 * `components/`, by path and content): a code change makes an update a release, never a rollback.
 */
export function programDigest(projectDir: string): string {
    const hash = crypto.createHash("sha256");
    const add = (relative: string): void => {
        const absolute = path.join(projectDir, relative);
        const stat = fs.statSync(absolute, { throwIfNoEntry: false });
        if (stat === undefined) return;
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(absolute).sort()) add(path.join(relative, entry));
            return;
        }
        hash.update(`${relative}\0`).update(fs.readFileSync(absolute)).update("\0");
    };
    add("index.ts");
    add("components");
    return hash.digest("hex");
}
