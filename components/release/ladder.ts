// The weight ladder: the shares of traffic green moves through, one step per `up`.

/** Percent of new requests per colour; blue + green is 100. */
export interface Weights {
    blue: number;
    green: number;
}

export const COLOURS = ["blue", "green"] as const;
export type Colour = (typeof COLOURS)[number];

/** Green at `green` percent, blue at the rest. */
export function weightsForGreen(green: number): Weights {
    return { blue: 100 - green, green };
}

/** The smallest step above `current`, or undefined when green already has the top step. */
export function nextWeightStep(ladder: readonly number[], current: number): number | undefined {
    return [...ladder].sort((a, b) => a - b).find((step) => step > current);
}

/** The largest step below `current`, or undefined when green is at the bottom. */
export function previousWeightStep(ladder: readonly number[], current: number): number | undefined {
    return [...ladder].sort((a, b) => b - a).find((step) => step < current);
}

/** What a change of green's weight is: no move, one step up or down, or a rollback to blue. */
export type WeightMove =
    | { ok: true; kind: "none" | "forward" | "back" | "rollback" }
    | { ok: false; reason: string };

/**
 * Whether one `up` may move green from `from` to `to`: at most one ladder step in either
 * direction, or straight back to 0 (a rollback is never held up by the ladder).
 */
export function checkWeightMove(ladder: readonly number[], from: number, to: number): WeightMove {
    const steps = ladder.join(", ");
    if (!ladder.includes(to)) return { ok: false, reason: `${to} is not a step of the ladder (${steps})` };
    if (to === from) return { ok: true, kind: "none" };
    if (to === 0) return { ok: true, kind: "rollback" };
    if (to > from) {
        const next = nextWeightStep(ladder, from);
        if (to === next) return { ok: true, kind: "forward" };
        return {
            ok: false,
            reason: `green moves one ladder step per up (${steps}): from ${from} the next step is ${String(next)}, not ${to}`,
        };
    }
    const previous = previousWeightStep(ladder, from);
    if (to === previous) return { ok: true, kind: "back" };
    return {
        ok: false,
        reason: `green moves one ladder step per up (${steps}): from ${from} the step back is ${String(previous)} (or 0 to roll back), not ${to}`,
    };
}

/** Colours whose share of traffic grows from `from` to `to` (all colours with weight when nothing was set yet). */
export function risingColours(from: Weights | undefined, to: Weights): Colour[] {
    return COLOURS.filter((colour) => to[colour] > 0 && (from === undefined || to[colour] > from[colour]));
}
