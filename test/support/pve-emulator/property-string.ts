// PVE "property strings" (`local-lvm:vm-100-disk-0,size=16G`, `name=eth0,bridge=vmbr0,tag=20`), the way the API stores them.

/** An ordered list of `key=value` pairs; a positional first value is stored under the format's default key. */
export type PropertyList = [key: string, value: string][];

/**
 * Parses `a,b=c,d=e`. A part without `=` is the value of `defaultKey` (e.g. `volume` for rootfs),
 * which PVE only allows as the first part; without a default key it is an error, as in PVE.
 */
export function parsePropertyString(text: string, defaultKey?: string): PropertyList {
    const pairs: PropertyList = [];
    if (text.trim() === "") return pairs;
    for (const part of text.split(",")) {
        const trimmed = part.trim();
        if (trimmed === "") continue;
        const eq = trimmed.indexOf("=");
        if (eq < 0) {
            if (defaultKey === undefined || pairs.some(([k]) => k === defaultKey)) {
                throw new Error(`value without key in property string: ${JSON.stringify(trimmed)}`);
            }
            pairs.push([defaultKey, trimmed]);
        } else {
            pairs.push([trimmed.slice(0, eq), trimmed.slice(eq + 1)]);
        }
    }
    return pairs;
}

/** Formats pairs back; the default key's value is written first and without its key, as PVE does. */
export function formatPropertyString(pairs: PropertyList, defaultKey?: string): string {
    const positional = defaultKey === undefined ? undefined : pairs.find(([k]) => k === defaultKey);
    const rest = pairs.filter(([k]) => k !== defaultKey).map(([k, v]) => `${k}=${v}`);
    return positional ? [positional[1], ...rest].join(",") : rest.join(",");
}

export function propertyMap(pairs: PropertyList): Map<string, string> {
    return new Map(pairs);
}

/** Sets (or adds at the end) one key. */
export function setProperty(pairs: PropertyList, key: string, value: string): PropertyList {
    const index = pairs.findIndex(([k]) => k === key);
    if (index < 0) return [...pairs, [key, value]];
    const copy = [...pairs];
    copy[index] = [key, value];
    return copy;
}

const SIZE_UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `16G` → bytes; a bare number is bytes for PVE sizes. */
export function parseDiskSize(text: string): number {
    const match = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text.trim());
    if (!match) throw new Error(`invalid disk size ${JSON.stringify(text)}`);
    return Math.round(Number(match[1]) * (SIZE_UNITS[match[2] ?? ""] ?? 1));
}

/** Bytes → the shortest exact PVE size (`16G`, `512M`). */
export function formatDiskSize(bytes: number): string {
    for (const unit of ["T", "G", "M", "K"] as const) {
        const factor = SIZE_UNITS[unit] ?? 1;
        if (bytes % factor === 0) return `${bytes / factor}${unit}`;
    }
    return String(bytes);
}
