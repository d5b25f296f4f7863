// Writes the trimmed API schema the emulator validates against, from the official `api-viewer/apidata.js`
// of proxmox/pve-docs (not a test; run by hand when the vendored schema is refreshed):
//   git --git-dir=<pve-docs> show <branch>:api-viewer/apidata.js > /tmp/apidata.js
//   node -r ts-node/register/transpile-only test/support/pve-emulator/schema/extract.ts \
//       /tmp/apidata.js <pve version> <branch> <commit> > test/support/pve-emulator/schema/pve-<major>.json
import * as fs from "node:fs";
import * as vm from "node:vm";
import { SCHEMA_ENDPOINTS } from "./endpoints";

interface ApiNode {
    path: string;
    info?: Record<string, { parameters?: unknown; returns?: unknown; allowtoken?: number; protected?: number; proxyto?: string }>;
    children?: ApiNode[];
}

/** Schema keys the validator reads; descriptions, type texts and renderers are dropped. */
const KEPT = new Set([
    "type", "optional", "default", "enum", "pattern", "format", "minimum", "maximum", "minLength", "maxLength",
    "properties", "items", "additionalProperties", "requires", "default_key", "alias", "keyAlias", "instance-types", "type-property",
]);

function trim(node: unknown): unknown {
    if (Array.isArray(node)) return node.map(trim);
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
        if (!KEPT.has(key)) continue;
        if (key === "properties" || (key === "format" && typeof value === "object")) {
            out[key] = Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, trim(v)]));
        } else {
            out[key] = trim(value);
        }
    }
    return out;
}

function index(tree: ApiNode[], into = new Map<string, ApiNode>()): Map<string, ApiNode> {
    for (const node of tree) {
        into.set(node.path, node);
        if (node.children) index(node.children, into);
    }
    return into;
}

function main(): void {
    const [file, version, branch, commit] = process.argv.slice(2);
    if (!file || !version || !branch || !commit) throw new Error("usage: extract.ts <apidata.js> <pve version> <branch> <commit>");
    const tree = vm.runInNewContext(`${fs.readFileSync(file, "utf8")}\n;apiSchema`) as ApiNode[];
    const nodes = index(tree);
    const endpoints: Record<string, unknown> = {};
    for (const [method, path] of SCHEMA_ENDPOINTS) {
        const info = nodes.get(path)?.info?.[method];
        // Absent in this version (PVE 8.4 has no /cluster/ha/rules): the emulator answers 501, as pveproxy does.
        if (!info) continue;
        endpoints[`${method} ${path}`] = {
            allowtoken: info.allowtoken ?? 0,
            parameters: trim(info.parameters ?? { type: "object", properties: {}, additionalProperties: 0 }),
            returns: trim(info.returns ?? {}),
        };
    }
    const document = {
        source: { repository: "https://github.com/proxmox/pve-docs", file: "api-viewer/apidata.js", branch, commit, version },
        endpoints,
    };
    process.stdout.write(`${JSON.stringify(document, null, 1)}\n`);
}

main();
