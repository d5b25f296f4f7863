// Boot order and delays: data services (db, cache, queue, search) come up before the apps that use them.
import type { ContainerRole, ContainerSpec } from "../config";

export interface Startup {
    /** PVE `startup.order`: lower starts first, and stops last. */
    order: number;
    /** Seconds PVE waits after starting this container before it starts the next one. */
    upDelay: number;
    /** Seconds PVE allows this container to shut down before it stops it hard. */
    downDelay: number;
}

/**
 * Delays per role. Data services get time to open their ports (and to flush on shutdown) before the
 * next container starts; apps reconnect by themselves and need little. The order itself comes from
 * the spec (`startOrder`, defaulting per role in the config schema, overridable per container).
 */
export const ROLE_START_DELAYS: Readonly<Record<ContainerRole, { upDelay: number; downDelay: number }>> = {
    db: { upDelay: 60, downDelay: 180 },
    search: { upDelay: 60, downDelay: 120 },
    queue: { upDelay: 30, downDelay: 120 },
    cache: { upDelay: 15, downDelay: 60 },
    app: { upDelay: 5, downDelay: 30 },
};

export function containerStartup(container: Pick<ContainerSpec, "role" | "startOrder">): Startup {
    return { order: container.startOrder, ...ROLE_START_DELAYS[container.role] };
}

/** The names in the order a cold cluster boots them (ties by CT-ID, as PVE breaks them). */
export function bootSequence(containers: readonly Pick<ContainerSpec, "name" | "vmId" | "role" | "startOrder">[]): string[] {
    return [...containers]
        .sort((a, b) => a.startOrder - b.startOrder || a.vmId - b.vmId)
        .map((container) => container.name);
}
