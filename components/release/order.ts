// The order services are released in: dependencies first, from the `dependsOn` graph of the config.
import { findDependencyCycles, topologicalOrder } from "../config/validate";

export interface ServiceDependencies {
    name: string;
    dependsOn: readonly string[];
}

/** A dependency cycle, with every loop spelled out (`api -> crm -> api`). */
export class DependencyCycleError extends Error {
    constructor(public readonly cycles: readonly (readonly string[])[]) {
        super(`services cannot be ordered: ${cycles.map((cycle) => `dependency cycle ${cycle.join(" -> ")}`).join("; ")}`);
        this.name = "DependencyCycleError";
    }
}

function graphOf(services: readonly ServiceDependencies[]): Map<string, readonly string[]> {
    return new Map(services.map((service) => [service.name, service.dependsOn] as const));
}

/**
 * Service names with every dependency before its dependants. Among services ready together,
 * `preferred` (release.order) decides, then the name. A cycle throws with its path.
 */
export function releaseOrder(services: readonly ServiceDependencies[], preferred: readonly string[] = []): string[] {
    const graph = graphOf(services);
    const cycles = findDependencyCycles(graph);
    if (cycles.length > 0) throw new DependencyCycleError(cycles);
    return topologicalOrder(graph, preferred);
}

/** Per service, the services it waits for: its dependencies that are part of this release, in release order. */
export function releaseDependencies(services: readonly ServiceDependencies[], preferred: readonly string[] = []): Map<string, string[]> {
    const order = releaseOrder(services, preferred);
    const graph = graphOf(services);
    return new Map(order.map((name) => [name, order.filter((other) => (graph.get(name) ?? []).includes(other))] as const));
}
