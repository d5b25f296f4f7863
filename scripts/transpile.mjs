// `node scripts/transpile.mjs <projectDir> <outDir>`: the compile step of scripts/build.sh. Turns
// every file that tsconfig.build.json includes into CommonJS JavaScript, one file at a time
// (ts.transpileModule): no type check and no import resolution, so the whole tree takes about a
// second instead of the ten a full `tsc` program needs to load the SDKs' declarations. Types are
// checked by `npm run typecheck`; `isolatedModules` there refuses any construct that a per-file
// transpile would get wrong (const enums, re-exported types without `export type`).
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const [projectDir, outDir] = process.argv.slice(2);
if (!projectDir || !outDir) {
    console.error("usage: node scripts/transpile.mjs <projectDir> <outDir>");
    process.exit(2);
}
const configFile = path.join(projectDir, "tsconfig.build.json");
const read = ts.readConfigFile(configFile, ts.sys.readFile);
if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, projectDir, undefined, configFile);
if (parsed.errors.length > 0) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"));
// The package has no "type": "module", so node loads every .js as CommonJS, as tsc's nodenext emits it.
const compilerOptions = { ...parsed.options, module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10, noEmit: false };
const rootDir = path.resolve(projectDir, parsed.options.rootDir ?? ".");
let failed = false;
for (const file of parsed.fileNames) {
    const result = ts.transpileModule(fs.readFileSync(file, "utf8"), { compilerOptions, fileName: file, reportDiagnostics: true });
    for (const diagnostic of result.diagnostics ?? []) {
        failed = true;
        console.error(`${path.relative(projectDir, file)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`);
    }
    const target = path.join(outDir, path.relative(rootDir, file)).replace(/\.ts$/, ".js");
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, result.outputText);
}
process.exit(failed ? 1 : 0);
