// The compiled program and pack (dist/): the build's record of its sources, and the refusal to run a stale build.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, test } from "vitest";
import { startCompiled, compiledProjectRoot, compiledSourcesDigest, staleBuildReason, writeCompiledStamp } from "../../components/compiled";

const ROOT = path.resolve(__dirname, "..", "..");
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function project(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rp-compiled-"));
    dirs.push(dir);
    fs.mkdirSync(path.join(dir, "components", "release"), { recursive: true });
    fs.mkdirSync(path.join(dir, "policies", "config"), { recursive: true });
    fs.mkdirSync(path.join(dir, "dist"));
    fs.writeFileSync(path.join(dir, "index.ts"), "export {};\n");
    fs.writeFileSync(path.join(dir, "components", "release", "a.ts"), "export const a = 1;\n");
    fs.writeFileSync(path.join(dir, "policies", "index.ts"), "export {};\n");
    return dir;
}

describe("compiled program", () => {
    test("the digest follows the TypeScript sources and the tsconfig files, not docs or policy config", () => {
        const dir = project();
        const before = compiledSourcesDigest(dir);
        fs.writeFileSync(path.join(dir, "components", "release", "README.md"), "# docs\n");
        fs.writeFileSync(path.join(dir, "policies", "config", "production.json"), "{}\n");
        expect(compiledSourcesDigest(dir)).toBe(before);
        fs.writeFileSync(path.join(dir, "tsconfig.build.json"), "{}\n");
        const withConfig = compiledSourcesDigest(dir);
        expect(withConfig).not.toBe(before);
        fs.writeFileSync(path.join(dir, "policies", "index.ts"), "export const changed = true;\n");
        expect(compiledSourcesDigest(dir)).not.toBe(withConfig);
    });

    test("a build is stale when any source changed after its stamp, or when it has none", () => {
        const dir = project();
        expect(staleBuildReason(dir)).toMatch(/sources\.sha256 is missing/);
        writeCompiledStamp(dir);
        expect(staleBuildReason(dir)).toBeUndefined();
        fs.writeFileSync(path.join(dir, "components", "release", "a.ts"), "export const a = 2;\n");
        expect(staleBuildReason(dir)).toMatch(/sources changed since dist\/ was built/);
    });

    test("the compiled entry refuses to run a stale build and names the fix, else drops the SDK's stack traces and debug messages; a TypeScript source is not checked", async () => {
        const dir = project();
        writeCompiledStamp(dir);
        const entry = path.join(dir, "dist", "index.js");
        expect(compiledProjectRoot(entry)).toBe(dir);
        expect(compiledProjectRoot(path.join(dir, "dist", "policies", "index.js"))).toBe(dir);
        const formatter = Error.prepareStackTrace;
        const limit = Error.stackTraceLimit;
        const sdkLog = pulumi.log as { debug: typeof pulumi.log.debug };
        const debug = sdkLog.debug;
        try {
            (Error as { prepareStackTrace?: unknown }).prepareStackTrace = () => "mapped";
            expect(() => startCompiled(entry, { RP_DEBUG: "1" })).not.toThrow();
            expect(Error.stackTraceLimit).toBe(limit); // debugging: traces and debug messages as they were
            expect(sdkLog.debug).toBe(debug);
            expect(() => startCompiled(entry, {})).not.toThrow();
            expect(Error.prepareStackTrace).toBeUndefined(); // V8's own formatter: no source-map lookups per frame
            expect(Error.stackTraceLimit).toBe(0);
            expect(new Error("kept").stack).toBe("Error: kept");
            expect(sdkLog.debug).not.toBe(debug); // the SDK's debug messages no longer go to the engine
            await expect(sdkLog.debug("registering")).resolves.toBeUndefined();
        } finally {
            Error.prepareStackTrace = formatter;
            Error.stackTraceLimit = limit;
            sdkLog.debug = debug;
        }
        fs.appendFileSync(path.join(dir, "index.ts"), "// edited\n");
        expect(() => startCompiled(entry)).toThrow(/dist\/index\.js is not the build of the sources in .*: the sources changed since dist\/ was built\. Run `npm run build`/);
        expect(compiledProjectRoot(path.join(dir, "index.ts"))).toBeUndefined();
        expect(() => startCompiled(path.join(dir, "index.ts"))).not.toThrow();
    });

    test("this checkout's dist/ is the build of its sources (npm test builds it first)", () => {
        expect(staleBuildReason(ROOT)).toBeUndefined();
        const pulumiYaml = fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8");
        expect(pulumiYaml).toMatch(/^main: dist\/index\.js$/m);
        expect(JSON.parse(fs.readFileSync(path.join(ROOT, "policies", "package.json"), "utf8")).main).toBe("../dist/policies/index.js");
        // The compiled check runs as node does it, without TypeScript.
        expect(() => execFileSync(process.execPath, [path.join(ROOT, "dist", "components", "compiled.js"), "check", ROOT])).not.toThrow();
    });
});
