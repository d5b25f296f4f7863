// The release report as Markdown: what a reviewer reads in ten seconds, summary first.
import type { PolicyViolation } from "./preview";
import { parseUrn } from "./preview";
import { formatDuration } from "./rollback";
import { PLATFORM_PARTS, type Change, type PlannedCommand, type PlatformPart, type ReleaseSummary, type ResourceChange, type ServiceRelease } from "./summary";

/** GitHub refuses comments over 65,536 characters; the details give way first. */
export const DEFAULT_MAX_CHARS = 60_000;

/** The hidden first line that lets a workflow find (and edit) this stack's comment. */
export function reportMarker(stack: string): string {
    return `<!-- release-report:${stack} -->`;
}

const PART_TITLES: Record<PlatformPart, string> = {
    cluster: "cluster",
    databases: "databases",
    release: "release",
    other: "other (providers)",
};

const OP_ORDER = ["create", "update", "replace", "create-replacement", "delete-replaced", "delete", "import", "discard"];
const OP_WORDS: Record<string, string> = {
    create: "to create",
    update: "to update",
    replace: "to replace",
    "create-replacement": "to replace",
    "delete-replaced": "to delete (replaced)",
    delete: "to delete",
    import: "to import",
    discard: "to forget",
};

/** `2 to update, 1 to create` in a fixed order; "no change" when empty. */
export function describeCounts(counts: Record<string, number>): string {
    const words = new Map<string, number>();
    const ops = Object.keys(counts).sort((a, b) => (OP_ORDER.indexOf(a) + 1 || 99) - (OP_ORDER.indexOf(b) + 1 || 99));
    for (const op of ops) {
        const n = counts[op] ?? 0;
        if (n <= 0 || op === "same" || op === "read" || op === "refresh") continue;
        const word = OP_WORDS[op] ?? op;
        words.set(word, (words.get(word) ?? 0) + n);
    }
    return words.size === 0 ? "no change" : [...words].map(([word, n]) => `${n} ${word}`).join(", ");
}

function countOps(changes: ResourceChange[]): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const c of changes) counts[c.op] = (counts[c.op] ?? 0) + 1;
    return counts;
}

/** Text for a table cell or list item: no line breaks, no pipes that would split a cell. */
function inline(text: string): string {
    return text.replace(/\s*\n\s*/g, " ").replace(/\|/g, "\\|").trim();
}

function code(text: string): string {
    const clean = inline(text).replace(/`/g, "'");
    return `\`${clean}\``;
}

function arrow<T>(c: Change<T>): string {
    return c.before === undefined || c.before === c.after ? String(c.after) : `${String(c.before)} → ${String(c.after)}`;
}

const STEP_WORDS: Record<ServiceRelease["step"], string> = {
    none: "no move",
    forward: "one step forward",
    back: "one step back",
    rollback: "rollback to blue",
    first: "first deployment",
    refused: "refused",
};

function violationTarget(v: PolicyViolation): string {
    if (v.urn === undefined) return "the stack";
    const { type, name } = parseUrn(v.urn);
    return `${code(name)} (${type.split(/[:/]/).pop() ?? type})`;
}

/** The message without the policy's description line the engine puts first, when there is more. */
function violationMessage(v: PolicyViolation): string {
    const lines = v.message.split("\n").map((l) => l.trim()).filter((l) => l !== "");
    return inline(lines.length > 1 ? lines.slice(1).join(" ") : (lines[0] ?? ""));
}

const SEVERITY_RANK: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/**
 * One line per level, resource and message: the gates that all fail for one reason (no evidence)
 * read as one line naming each policy, with the highest severity among them.
 */
export function renderViolations(violations: PolicyViolation[]): string[] {
    if (violations.length === 0) return ["None."];
    const groups = new Map<string, PolicyViolation[]>();
    for (const v of violations) {
        const key = `${v.level}\u0000${v.urn ?? ""}\u0000${violationMessage(v)}`;
        groups.set(key, [...(groups.get(key) ?? []), v]);
    }
    return [...groups.values()].map((group) => {
        const first = group[0] as PolicyViolation;
        const icon = first.level === "mandatory" ? "🛑" : first.level === "remediate" ? "🔧" : "⚠️";
        const severities = group.map((v) => v.severity).filter((s): s is string => s !== undefined);
        const severity = severities.sort((a, b) => (SEVERITY_RANK[a] ?? 9) - (SEVERITY_RANK[b] ?? 9))[0];
        const policies = [...new Set(group.map((v) => code(v.policy)))].join(", ");
        return `- ${icon} **${first.level}${severity ? `, ${severity}` : ""}** ${policies} on ${violationTarget(first)}: ${violationMessage(first)}`;
    });
}

function servicesTable(services: ServiceRelease[]): string[] {
    if (services.length === 0) return ["No service in this stack."];
    const rows = services.map((s) => {
        const versions = [`blue ${arrow(s.blue.version)}`, `green ${arrow(s.green.version)}`].join(", ");
        const step = s.step === "refused" ? `refused: ${inline(s.refusedBecause ?? "")}` : STEP_WORDS[s.step];
        const name = s.changes ? `**${s.service}**` : s.service;
        return `| ${name} | ${s.backend} | ${arrow(s.blue.weight)} | ${arrow(s.green.weight)} | ${versions} | ${step} |`;
    });
    return ["| service | backend | blue % | green % | versions | step |", "|---|---|---|---|---|---|", ...rows];
}

function commandLine(c: PlannedCommand): string {
    const forVersion = c.version ? ` for ${c.service} ${c.version}` : ` for ${c.service}`;
    if (c.kind === "backup") return `- backup of ${code(c.database ?? c.name)}${c.server ? ` on ${c.server}` : ""}${forVersion}`;
    return `- migration${forVersion}: ${c.command ? code(c.command) : code(c.name)}`;
}

function rollbackLines(summary: ReleaseSummary): string[] {
    const r = summary.rollback;
    if (r.services.length === 0) return ["Nothing to roll back after this update: no service sends traffic to green."];
    const perService = r.services.map((s) => `${s.service} ${formatDuration(s.gateSeconds)} + ${formatDuration(s.drainSeconds)}`).join(", ");
    return [
        `Worst case **${formatDuration(r.totalSeconds)}** to put all traffic back on blue ` +
            `(\`npm run rollback -- --stack ${summary.stack}\`): ${formatDuration(r.overheadSeconds)} for the update, ` +
            `then per service in release order blue's health gate at its timeout plus green's drain (${perService}).`,
    ];
}

/** A Mermaid node id: letters, digits and `_` only. */
function nodeId(prefix: string, name: string): string {
    return `${prefix}_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

/** A quoted Mermaid label (double quotes become the entity Mermaid understands). */
function label(text: string): string {
    return `"${text.replace(/"/g, "#quot;")}"`;
}

/**
 * The release order as a Mermaid flowchart: the gate, then per service its backups and migration
 * (when they run) and its traffic step. Solid arrows are `dependsOn`; dotted ones the "one service
 * at a time" order between services that do not depend on each other.
 */
export function renderReleaseOrderMermaid(summary: ReleaseSummary): string[] {
    const lines = ["```mermaid", "flowchart LR"];
    const gateLabel = summary.gate ? `release gate (${summary.gate.op})` : "release gate";
    lines.push(`    gate{{${label(gateLabel)}}}`);
    const entry = new Map<string, string>();
    for (const s of summary.services) {
        const trafficNode = nodeId("svc", s.service);
        const weights = s.step === "none" ? `green ${s.green.weight.after} %` : `green ${arrow(s.green.weight)} %`;
        const version = s.green.version.before !== undefined && s.green.version.before !== s.green.version.after ? ` · ${arrow(s.green.version)}` : "";
        lines.push(`    ${trafficNode}[${label(`${s.service}: ${weights}${version}`)}]`);
        let first = trafficNode;
        const backups = summary.commands.filter((c) => c.service === s.service && c.kind === "backup");
        const migration = summary.commands.find((c) => c.service === s.service && c.kind === "migration");
        if (migration) {
            const id = nodeId("migrate", s.service);
            lines.push(`    ${id}[[${label(`migrate ${s.service}${migration.version ? ` ${migration.version}` : ""}`)}]]`, `    ${id} --> ${first}`);
            first = id;
        }
        if (backups.length > 0) {
            const id = nodeId("backup", s.service);
            lines.push(`    ${id}[(${label(`backup ${backups.map((b) => b.database ?? b.name).join(", ")}`)})]`, `    ${id} --> ${first}`);
            first = id;
        }
        entry.set(s.service, first);
        if (s.changes || backups.length > 0 || migration) lines.push(`    class ${trafficNode} changed`);
        if (s.step === "refused") lines.push(`    class ${trafficNode} refused`);
    }
    summary.services.forEach((s, index) => {
        const target = entry.get(s.service) ?? nodeId("svc", s.service);
        const deps = s.dependsOn.filter((d) => entry.has(d));
        for (const dep of deps) lines.push(`    ${nodeId("svc", dep)} --> ${target}`);
        const previous = summary.services[index - 1];
        if (previous === undefined) {
            if (deps.length === 0) lines.push(`    gate --> ${target}`);
        } else if (!deps.includes(previous.service)) {
            lines.push(`    ${nodeId("svc", previous.service)} -.-> ${target}`);
        }
    });
    lines.push("    classDef changed fill:#fff3cd,stroke:#b8860b", "    classDef refused fill:#f8d7da,stroke:#b02a37", "```");
    return lines;
}

function changeLine(c: ResourceChange): string {
    const what = c.changed.length > 0 ? ` (${c.changed.join(", ")})` : "";
    return `- ${c.op} ${c.kind} ${code(c.name)}${what}`;
}

/** Per part, the resources that change, each part collapsed; cut to `budget` characters. */
function changeDetails(summary: ReleaseSummary, budget: number): string[] {
    const out: string[] = [];
    let used = 0;
    for (const part of PLATFORM_PARTS) {
        const changes = summary.changes[part];
        if (changes.length === 0) continue;
        const lines = [`<details><summary>${PART_TITLES[part]}: ${describeCounts(countOps(changes))}</summary>`, ""];
        let shown = 0;
        for (const c of changes) {
            const line = changeLine(c);
            if (used + line.length + 1 > budget) break;
            lines.push(line);
            used += line.length + 1;
            shown += 1;
        }
        if (shown < changes.length) lines.push(`- … and ${changes.length - shown} more (the job log has the full preview)`);
        lines.push("", "</details>");
        out.push(...lines);
    }
    return out;
}

export interface RenderOptions {
    maxChars?: number;
    /** A link to the run with the full log (the PR comment adds it). */
    runUrl?: string;
    /** The commit the preview ran on. */
    commit?: string;
}

export function renderReleaseReport(summary: ReleaseSummary, options: RenderOptions = {}): string {
    const maxChars = options.maxChars ?? DEFAULT_MAX_CHARS;
    const mandatory = summary.violations.filter((v) => v.level === "mandatory" || v.level === "remediate").length;
    const advisory = summary.violations.filter((v) => v.level === "advisory").length;
    const failed = summary.exitCode !== undefined && summary.exitCode !== 0;
    const exit = failed ? ` (exit ${summary.exitCode})` : "";
    const status = mandatory > 0 ? `❌ **blocked by policy**${exit}` : failed ? `❌ **preview failed**${exit}` : "✅ **preview passed**";
    const rollback = summary.rollback.services.length === 0 ? "nothing to roll back" : `worst-case rollback **${formatDuration(summary.rollback.totalSeconds)}**`;

    const head = [
        reportMarker(summary.stack),
        `## Release report: \`${summary.stack}\``,
        "",
        `${status} · ${describeCounts(summary.changeSummary)} · policies: ${mandatory} mandatory, ${advisory} advisory · ${rollback}`,
        ...(options.commit || options.runUrl
            ? ["", [options.commit ? `commit ${options.commit.slice(0, 12)}` : "", options.runUrl ? `[full log](${options.runUrl})` : ""].filter(Boolean).join(" · ")]
            : []),
        "",
        "| part | changes |",
        "|---|---|",
        ...PLATFORM_PARTS.filter((p) => p !== "other" || summary.changes.other.length > 0).map(
            (p) => `| ${PART_TITLES[p]} | ${describeCounts(countOps(summary.changes[p]))} |`,
        ),
    ];
    const errors = summary.errors.length > 0 ? ["", "### Errors", "", ...summary.errors.map((e) => `- ${inline(e)}`)] : [];
    const body = [
        "",
        "### Policy violations",
        "",
        ...renderViolations(summary.violations),
        "",
        "### Traffic per service",
        "",
        ...servicesTable(summary.services),
        "",
        "### Backups and migrations that will run",
        "",
        ...(summary.commands.length === 0 ? ["None."] : summary.commands.map(commandLine)),
        "",
        "### Rollback",
        "",
        ...rollbackLines(summary),
        "",
        "### Release order",
        "",
        ...renderReleaseOrderMermaid(summary),
    ];
    // Without a plan only the errors (and any violations) have something to say.
    if (!summary.planned) {
        return [head[0], head[1], "", `${status} · no plan`, ...errors, "", "### Policy violations", "", ...renderViolations(summary.violations)].join("\n") + "\n";
    }
    const fixed = [...head, ...errors, ...body].join("\n");
    const details = changeDetails(summary, Math.max(0, maxChars - fixed.length - 200));
    const text = [fixed, ...(details.length > 0 ? ["", "### Changes per part", "", ...details] : [])].join("\n") + "\n";
    return text.length <= maxChars ? text : `${text.slice(0, maxChars - 80)}\n\n… (cut to ${maxChars} characters; the job log has the full preview)\n`;
}
