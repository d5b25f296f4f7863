// Container tags the way Proxmox stores them (lowercase, unique, sorted), so they never show a diff.
import type { ContainerSpec } from "../config";

/** Trims, lowercases, drops empties and duplicates, and sorts: what PVE gives back for any tag list. */
export function normalizeTags(tags: readonly string[]): string[] {
    const cleaned = tags.map((tag) => tag.trim().toLowerCase()).filter((tag) => tag !== "");
    return [...new Set(cleaned)].sort();
}

/** The container's own tags plus its role, so the PVE UI can filter by role. */
export function containerTags(container: Pick<ContainerSpec, "tags" | "role">): string[] {
    return normalizeTags([...container.tags, container.role]);
}
