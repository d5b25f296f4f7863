// The replacement guard: refuses any config change the provider would carry out by replacing a data-holding container.
import { z } from "zod";
import { CONFIG_NAMESPACE, formatPath, type ClusterSpec, type ConfigProblem, type ContainerSpec, type PathSegment } from "../config";

/** What decides whether bpg's ContainerLegacy is updated in place or destroyed and created again. */
export interface GuardedContainerFields {
    vmId: number;
    node: string;
    unprivileged: boolean;
    datastore: string;
    diskGiB: number;
    template: string;
    /** Storage-backed mount points; adding, removing or resizing one replaces the container (bpg#2322, #2995). */
    mountPoints: { path: string; sizeGiB: number }[];
}

/** The guarded fields of every data-holding container, by container name, as recorded after a deployment. */
export type GuardRecord = Record<string, GuardedContainerFields>;

export interface ReplacementViolation {
    field: keyof GuardedContainerFields;
    message: string;
}

const guardedFieldsSchema = z.object({
    vmId: z.number(),
    node: z.string(),
    unprivileged: z.boolean(),
    datastore: z.string(),
    diskGiB: z.number(),
    template: z.string(),
    mountPoints: z.array(z.object({ path: z.string(), sizeGiB: z.number() })).default([]),
});

/**
 * A recorded guard output (`clusterReplacementGuard`) as a GuardRecord; null when there is none
 * (the first deployment). Entries that do not parse are left out: they guard nothing.
 */
export function parseGuardRecord(raw: unknown): GuardRecord | null {
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return null;
    const record: GuardRecord = {};
    for (const [name, value] of Object.entries(raw as Record<string, unknown>)) {
        const parsed = guardedFieldsSchema.safeParse(value);
        if (parsed.success) record[name] = parsed.data;
    }
    return record;
}

/** Every container of the spec is unprivileged and has no mount points yet; the record keeps the door open for both. */
export function guardedFieldsOf(container: ContainerSpec, cluster: Pick<ClusterSpec, "datastore">): GuardedContainerFields {
    return {
        vmId: container.vmId,
        node: container.node,
        unprivileged: true,
        datastore: cluster.datastore,
        diskGiB: container.diskGiB,
        template: container.template,
        mountPoints: [],
    };
}

export function guardRecordOf(cluster: ClusterSpec): GuardRecord {
    const record: GuardRecord = {};
    for (const container of cluster.containers) if (container.stateful) record[container.name] = guardedFieldsOf(container, cluster);
    return record;
}

const LOSS = "the provider would replace the container and its data would be lost";

/**
 * Why changing `old` into `next` would replace a data-holding container, one entry per field.
 * Growing the root disk is fine (bpg resizes it in place); everything listed here is not.
 */
export function replacementViolations(old: GuardedContainerFields, next: GuardedContainerFields): ReplacementViolation[] {
    const out: ReplacementViolation[] = [];
    const changed = <K extends keyof GuardedContainerFields>(field: K, hint: string): void => {
        const from = JSON.stringify(old[field]);
        const to = JSON.stringify(next[field]);
        if (from !== to) out.push({ field, message: `changing ${field} from ${from} to ${to}: ${LOSS}; ${hint}` });
    };
    changed("vmId", "a CT-ID never changes");
    changed("node", "move it with `pct migrate` (or HA), then record the new node in the state (see components/cluster/README.md)");
    changed("unprivileged", "an unprivileged container cannot be converted in place");
    changed("datastore", "move its volumes with `pct move-volume`, then record the new datastore in the state");
    changed("template", "a template only matters when a container is created; pin this container to its old one (`template` on the container)");
    if (next.diskGiB < old.diskGiB) {
        out.push({
            field: "diskGiB",
            message: `shrinking the root disk from ${old.diskGiB} GiB to ${next.diskGiB} GiB: ${LOSS}; a disk can only grow in place`,
        });
    }
    const paths = (list: GuardedContainerFields["mountPoints"]): string => list.map((m) => `${m.path}:${m.sizeGiB}G`).join(",");
    if (paths(old.mountPoints) !== paths(next.mountPoints)) {
        out.push({
            field: "mountPoints",
            message: `changing the mount points from [${paths(old.mountPoints)}] to [${paths(next.mountPoints)}]: ${LOSS}; add, remove or resize them by hand and record them in the state`,
        });
    }
    return out;
}

export class ReplacementRefusedError extends Error {
    readonly problems: readonly ConfigProblem[];

    constructor(problems: readonly ConfigProblem[]) {
        const lines = problems.map((p) => `${CONFIG_NAMESPACE}:${p.path}: ${p.message}`);
        super([`refusing to replace data-holding containers (nothing was changed):`, ...lines].join("\n"));
        this.name = "ReplacementRefusedError";
        this.problems = problems;
    }
}

/** Throws a `ReplacementRefusedError` naming each field that would replace the data-holding container `name`. */
export function assertNoReplacementOfStatefulContainer(name: string, old: GuardedContainerFields, next: GuardedContainerFields): void {
    const violations = replacementViolations(old, next);
    if (violations.length > 0) {
        throw new ReplacementRefusedError(violations.map((v) => ({ path: `${name}.${v.field}`, message: v.message })));
    }
}

/** Where a guarded field is set in the stack config. */
function configPath(field: keyof GuardedContainerFields, index: number, container: ContainerSpec, cluster: ClusterSpec): PathSegment[] {
    if (field === "template" && container.template !== cluster.template) return ["cluster", "containers", index, "template"];
    if (field === "datastore" || field === "template") return ["cluster", field];
    if (field === "unprivileged") return ["cluster", "containers", index];
    return ["cluster", "containers", index, field];
}

/**
 * Compares the record of the last deployment with the spec about to be deployed. Every problem
 * names the config path and the container. An unreadable or missing record (first deployment)
 * yields no problems; so does a record entry that fails to parse.
 */
export function checkClusterReplacements(previous: unknown, cluster: ClusterSpec): ConfigProblem[] {
    const problems: ConfigProblem[] = [];
    for (const [name, old] of Object.entries(parseGuardRecord(previous) ?? {})) {
        const index = cluster.containers.findIndex((c) => c.name === name);
        const container = cluster.containers[index];
        const label = `${name} (CT ${old.vmId}) holds data`;
        if (!container) {
            problems.push({
                path: "cluster.containers",
                message: `${label} and is no longer declared: removing it would destroy it; keep it, or take it out of the stack deliberately (pulumi state unprotect, then remove)`,
            });
            continue;
        }
        if (!container.stateful) {
            problems.push({
                path: formatPath(["cluster", "containers", index, "role"]),
                message: `${label}: changing its role to ${container.role} would drop its guards against replacement and deletion`,
            });
            continue;
        }
        for (const violation of replacementViolations(old, guardedFieldsOf(container, cluster))) {
            problems.push({ path: formatPath(configPath(violation.field, index, container, cluster)), message: `${label}; ${violation.message}` });
        }
    }
    return problems;
}
