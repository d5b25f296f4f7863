// What every traffic provider does around its backend: the ladder check, the health gates and the drain time.
import type * as pulumi from "@pulumi/pulumi";
import { healthGateFailure, REAL_CLOCK, waitUntilHealthy, type Clock, type HealthGateSettings } from "./health";
import { checkWeightMove, COLOURS, type Colour, type Weights } from "./ladder";
import { httpGet, type SshAccess } from "../remote/transport";

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
    /** How long a colour whose weight drops to 0 keeps serving its in-flight requests (`release.drainSeconds`). */
    drainSeconds: number;
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
    if (!Number.isInteger(news.drainSeconds) || news.drainSeconds < 0) {
        failures.push({ property: "drainSeconds", reason: `must be a whole number of seconds, 0 or more (${news.drainSeconds})` });
    }
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

/** The colours that served traffic before (`from`) and get none now: their in-flight requests must drain. */
export function drainingColours(from: Weights | undefined, to: Weights): Colour[] {
    if (from === undefined) return [];
    return COLOURS.filter((colour) => from[colour] > 0 && to[colour] === 0);
}

/**
 * Waits `drainSeconds` when a colour has just lost its last traffic, before the provider returns:
 * nothing later in the release, and no one reading the weights, treats that colour as free
 * while it still finishes requests it accepted. Resolves with the colours waited for.
 */
export async function waitForDrain(from: Weights | undefined, to: Weights, drainSeconds: number, clock: Clock = REAL_CLOCK): Promise<Colour[]> {
    const draining = drainingColours(from, to);
    if (draining.length > 0 && drainSeconds > 0) await clock.sleep(drainSeconds * 1000);
    return draining;
}

/** What differs between the traffic providers: how weights are applied and read back, and how the resource is named. */
export interface ShiftBackend<I extends ShiftInputs, O extends I> {
    /** The inputs whose change is an update (everything but the read-back `observed`). */
    compared: readonly (keyof I)[];
    /** Gate, shift, read back, persist, drain; throws before touching the backend when a gate stays closed. */
    applyWeights(olds: O | undefined, news: I): Promise<O>;
    idOf(inputs: I): string;
    /** What the backend has now; undefined when the resource is gone. */
    read(id: string, props: O | undefined): Promise<{ id: string; props: O } | undefined>;
}

/**
 * A traffic provider: the ladder checked at preview, an update (never a replace) when a compared
 * input changes, and a delete that leaves the traffic where it is (removing a service from the
 * stack must not cut it off).
 */
export function shiftProvider<I extends ShiftInputs, O extends I>(backend: ShiftBackend<I, O>) {
    return {
        async check(olds: Partial<I> | undefined, news: I) {
            return { inputs: news, failures: checkShiftInputs(olds, news) };
        },
        async diff(_id: string, olds: O, news: I) {
            return { changes: changedKeys<I>(olds, news, backend.compared).length > 0, replaces: [], deleteBeforeReplace: false };
        },
        async create(inputs: I) {
            return { id: backend.idOf(inputs), outs: await backend.applyWeights(undefined, inputs) };
        },
        async update(_id: string, olds: O, news: I) {
            return { outs: await backend.applyWeights(olds, news) };
        },
        async read(id: string, props?: O) {
            return (await backend.read(id, props)) ?? {};
        },
        async delete() {},
    };
}

/** What every traffic resource is declared with (each backend adds where its weights live). */
export interface ShiftResourceArgs {
    service: string;
    ssh?: pulumi.Input<SshAccess>;
    blue: ColourTarget;
    green: ColourTarget;
    weights: Weights;
    ladder: number[];
    healthGate: HealthGateSettings;
    drainSeconds: number;
}
