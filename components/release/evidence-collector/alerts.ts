// Open security alerts of severity high or critical, from Dependabot and code scanning.
import type { ReleaseEvidence } from "../evidence";

export type AlertItem = ReleaseEvidence["alerts"]["items"][number];

/** `GET /repos/{owner}/{repo}/dependabot/alerts`, the fields read here. */
export interface GitHubDependabotAlert {
    number?: number;
    state?: string;
    html_url?: string;
    security_advisory?: { ghsa_id?: string; severity?: string; summary?: string } | null;
    security_vulnerability?: { severity?: string; package?: { name?: string; ecosystem?: string } } | null;
    dependency?: { package?: { name?: string; ecosystem?: string } } | null;
}

/** `GET /repos/{owner}/{repo}/code-scanning/alerts`, the fields read here. */
export interface GitHubCodeScanningAlert {
    number?: number;
    state?: string;
    html_url?: string;
    rule?: { id?: string; severity?: string | null; security_severity_level?: string | null; description?: string } | null;
    tool?: { name?: string } | null;
    most_recent_instance?: { location?: { path?: string } } | null;
}

const HIGH_OR_CRITICAL = new Set(["high", "critical"]);

function isHighOrCritical(severity: string | null | undefined): severity is string {
    return severity !== null && severity !== undefined && HIGH_OR_CRITICAL.has(severity.toLowerCase());
}

/**
 * Open Dependabot alerts of severity high or critical. The request already asks for those; the
 * filter is repeated so that a file holding every alert gives the same answer.
 */
export function dependabotAlertItems(alerts: readonly GitHubDependabotAlert[]): AlertItem[] {
    return alerts.flatMap((alert) => {
        const severity = alert.security_advisory?.severity ?? alert.security_vulnerability?.severity;
        if ((alert.state ?? "open") !== "open" || !isHighOrCritical(severity)) return [];
        const pkg = alert.security_vulnerability?.package?.name ?? alert.dependency?.package?.name;
        const advisory = alert.security_advisory?.summary ?? alert.security_advisory?.ghsa_id ?? "advisory";
        return [
            {
                id: `dependabot-${alert.number ?? "?"}`,
                severity: severity.toLowerCase(),
                summary: pkg ? `${pkg}: ${advisory}` : advisory,
                ...(alert.html_url ? { url: alert.html_url } : {}),
            },
        ];
    });
}

/**
 * Open code scanning alerts whose rule has a security severity of high or critical (a rule's
 * plain `severity` is about code quality, e.g. `error`, and is not a security severity).
 */
export function codeScanningAlertItems(alerts: readonly GitHubCodeScanningAlert[]): AlertItem[] {
    return alerts.flatMap((alert) => {
        const severity = alert.rule?.security_severity_level;
        if ((alert.state ?? "open") !== "open" || !isHighOrCritical(severity)) return [];
        const rule = alert.rule?.description ?? alert.rule?.id ?? "rule";
        const where = alert.most_recent_instance?.location?.path;
        return [
            {
                id: `code-scanning-${alert.number ?? "?"}`,
                severity: severity.toLowerCase(),
                summary: `${alert.tool?.name ? `${alert.tool.name}: ` : ""}${rule}${where ? ` (${where})` : ""}`,
                ...(alert.html_url ? { url: alert.html_url } : {}),
            },
        ];
    });
}
