// The program, the policy pack and the operator commands (scripts/*.ts) run as JavaScript compiled
// into dist/ (`npm run build`, which every npm script runs when the sources changed): no TypeScript
// compiler in the path of a preview or a command. The build records a digest of the sources it
// compiled; the compiled program and pack refuse to run from sources that changed since, so what
// runs is always what the checkout holds.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** The folder of the compiled program and pack, below the project root. */
export const COMPILED_DIR = "dist";
/** The build's record of the sources it compiled (sha256, see compiledSourcesDigest). */
export const COMPILED_STAMP = path.join(COMPILED_DIR, "sources.sha256");
/** What `npm run build` compiles: the program, the policy pack, the operator commands, and the compiler settings. */
const COMPILED_SOURCES = ["index.ts", "components", "policies", "scripts", "tsconfig.json", "tsconfig.build.json"];

/**
 * sha256 over `entries` below `projectDir` (files by relative path and content, folders walked in
 * name order, missing entries skipped), with `accept` choosing which files count.
 */
export function treeDigest(projectDir: string, entries: readonly string[], accept: (relative: string) => boolean = () => true): string {
    const hash = crypto.createHash("sha256");
    const add = (relative: string): void => {
        const absolute = path.join(projectDir, relative);
        const stat = fs.statSync(absolute, { throwIfNoEntry: false });
        if (stat === undefined) return;
        if (stat.isDirectory()) {
            for (const entry of fs.readdirSync(absolute).sort()) if (entry !== "node_modules") add(path.join(relative, entry));
            return;
        }
        if (!accept(relative)) return;
        hash.update(`${relative}\0`).update(fs.readFileSync(absolute)).update("\0");
    };
    for (const entry of entries) add(entry);
    return hash.digest("hex");
}

/** The digest of what the build compiles: TypeScript sources and the two tsconfig files (not docs, not JSON data). */
export function compiledSourcesDigest(projectDir: string): string {
    return treeDigest(projectDir, COMPILED_SOURCES, (relative) => relative.endsWith(".ts") || /^tsconfig(\.build)?\.json$/.test(relative));
}

/**
 * The project root when `file` is a compiled module (below `<root>/dist/`), undefined when it is
 * a TypeScript source (tests and scripts run the sources through ts-node or vitest).
 */
export function compiledProjectRoot(file: string): string | undefined {
    if (file.endsWith(".ts")) return undefined;
    for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
        if (path.basename(dir) === COMPILED_DIR) return path.dirname(dir);
    }
    return undefined;
}

/** Why the compiled code below `projectDir` is not the build of its sources, or undefined when it is. */
export function staleBuildReason(projectDir: string): string | undefined {
    const stamp = path.join(projectDir, COMPILED_STAMP);
    let recorded: string;
    try {
        recorded = fs.readFileSync(stamp, "utf8").trim();
    } catch {
        return `${COMPILED_STAMP} is missing (no complete build)`;
    }
    return recorded === compiledSourcesDigest(projectDir) ? undefined : `the sources changed since ${COMPILED_DIR}/ was built`;
}

/**
 * The first step of the compiled program and pack (pass `__filename`); does nothing when `file` is
 * itself a TypeScript source (tests, ts-node). Throws when the build is stale (other sources than
 * the project holds now). Then, unless `RP_DEBUG=1` (for debugging the program), drops two costs
 * of the SDK's own debugging aids, measured on the production config and at ten times its size:
 * - stack traces: it captures one for every promise it tracks (only ever printed for a leaked
 *   promise) and formats it through source-map-support, which looks up source maps dist/ does not
 *   ship: about a quarter of the program's CPU. V8's own formatter and no frames
 *   (`Error.stackTraceLimit = 0`) make that nothing; the SDK still records each resource's source
 *   position (it lifts the limit for that), and errors keep their messages;
 * - debug messages: it sends each one to the engine, one RPC after the other, which shows them only
 *   under `pulumi --debug`: a fifth of a 10x preview's CPU (program and engine).
 */
export function startCompiled(file: string, env: NodeJS.ProcessEnv = process.env): void {
    const root = compiledProjectRoot(file);
    if (root === undefined) return;
    const reason = staleBuildReason(root);
    if (reason !== undefined) {
        throw new Error(`${path.relative(root, file)} is not the build of the sources in ${root}: ${reason}. Run \`npm run build\` (npm scripts do it themselves).`);
    }
    if (env.RP_DEBUG === "1") return;
    (Error as { prepareStackTrace?: unknown }).prepareStackTrace = undefined;
    Error.stackTraceLimit = 0;
    // Required here, not at the top: `node dist/components/compiled.js check` (every npm script) must not load the SDK.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdkLog = require("@pulumi/pulumi/log") as { debug: (...args: unknown[]) => Promise<void> };
    sdkLog.debug = () => Promise.resolve();
}

/** Records in `outDir` (default `projectDir`/dist) that it is the build of `projectDir`'s current sources (the last step of `npm run build`). */
export function writeCompiledStamp(projectDir: string, outDir = path.join(projectDir, COMPILED_DIR)): void {
    fs.writeFileSync(path.join(outDir, path.basename(COMPILED_STAMP)), `${compiledSourcesDigest(projectDir)}\n`);
}

// `node dist/components/compiled.js check <projectDir>` | `stamp <projectDir> <outDir>`: used by scripts/build.sh.
if (require.main === module) {
    const [command, projectDir = process.cwd(), outDir] = process.argv.slice(2);
    if (command === "stamp") writeCompiledStamp(projectDir, outDir);
    else if (command === "check") process.exit(staleBuildReason(projectDir) === undefined ? 0 : 1);
    else {
        console.error("usage: node dist/components/compiled.js check [projectDir] | stamp [projectDir] [outDir]");
        process.exit(2);
    }
}
