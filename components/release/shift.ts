// What every traffic provider does around its backend: the ladder check and the health gates.
import { healthGateFailure, waitUntilHealthy, type HealthGateSettings } from "./health";
import { checkWeightMove, COLOURS, type Colour, type Weights } from "./ladder";
import { httpGet, type SshAccess } from "./transport";

/** One colour as a traffic provider sees it. */
export interface ColourTarget {
    /** The version it must report on its health endpoint before its weight may rise. */
    version: string;
    /** host:port */
    address: string;
    healthUrl: string;
}

/** The inputs every traffic provider shares. */
export interface ShiftInputs {
    /** The service, for messages. */
    service: string;
    blue: ColourTarget;
    green: ColourTarget;
    weights: Weights;
    ladder: number[];
    healthGate: HealthGateSettings;
    /** Where the backend is managed from; the health endpoints are asked from there too. */
    ssh?: SshAccess;
}

export interface CheckFailure {
    property: string;
    reason: string;
}

/** Input checks (run in preview too, contacting nothing): the weights and one ladder step per `up`. */
export function checkShiftInputs(olds: Partial<ShiftInputs> | undefined, news: ShiftInputs): CheckFailure[] {
    const failures: CheckFailure[] = [];
    const { blue, green } = news.weights;
    if (blue + green !== 100) failures.push({ property: "weights", reason: `blue + green must be 100 (${blue} + ${green})` });
    const from = olds?.weights?.green;
    if (from !== undefined) {
        const move = checkWeightMove(news.ladder, from, green);
        if (!move.ok) failures.push({ property: "weights", reason: `${news.service}: ${move.reason}` });
    } else if (!news.ladder.includes(green)) {
        failures.push({ property: "weights", reason: `${news.service}: green ${green} is not a step of the ladder (${news.ladder.join(", ")})` });
    }
    return failures;
}

/**
 * The colours whose health must be proven before the shift: every colour that will have weight
 * and either gains weight (compared with what the backend has now) or is to run a new version.
 */
export function coloursToGate(current: Weights | undefined, olds: Partial<ShiftInputs> | undefined, news: ShiftInputs): Colour[] {
    return COLOURS.filter((colour) => {
        const target = news.weights[colour];
        if (target <= 0) return false;
        const rising = current === undefined || target > current[colour];
        const newVersion = olds?.[colour]?.version !== undefined && olds[colour]?.version !== news[colour].version;
        return rising || newVersion;
    });
}

/** Asks each colour's health endpoint in turn; throws the first closed gate's reason (nothing has been changed yet). */
export async function openHealthGates(colours: readonly Colour[], news: ShiftInputs): Promise<void> {
    for (const colour of colours) {
        const target = news[colour];
        const result = await waitUntilHealthy(target.healthUrl, target.version, news.healthGate, (url, timeoutMs) => httpGet(news.ssh, url, timeoutMs));
        if (!result.healthy) {
            throw new Error(healthGateFailure(`${news.service} ${colour}`, target.healthUrl, target.version, news.healthGate, result));
        }
    }
}

/** Whether any of `keys` differs between two plain values (compared as JSON). */
export function changedKeys<T extends object>(olds: Partial<T>, news: T, keys: readonly (keyof T)[]): (keyof T)[] {
    return keys.filter((key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]));
}
