// A service's blue/green weights in HAProxy as a dynamic resource: set over the runtime API, read back, persisted.
import * as pulumi from "@pulumi/pulumi";
import type { Colour, Weights } from "../ladder";
import { coloursToGate, openHealthGates, shiftProvider, waitForDrain, type ShiftInputs, type ShiftResourceArgs } from "../shift";
import { haproxyRuntime, writeFileAtomic } from "../../remote/transport";
import {
    colourWeights,
    expectEmptyAnswer,
    parseServersState,
    showServersStateCommand,
    weightChangeCommands,
    type ServerState,
} from "./runtime";

/** The servers of a backend are named after their colour (the inventory's `set weight api/green 10`). */
export const HAPROXY_SERVERS: Readonly<Record<Colour, string>> = { blue: "blue", green: "green" };

export interface HaproxyWeightsInputs extends ShiftInputs {
    /** HAProxy backend name. */
    backend: string;
    /** Runtime API: a unix socket path, or host:port. */
    admin: string;
    /** Where `show servers state` is saved after each change ("" for nowhere), for `load-server-state-from-file`. */
    serverStateFile: string;
}

export interface HaproxyWeightsOutputs extends HaproxyWeightsInputs {
    /** The weights HAProxy reported after the change (`show servers state`). */
    observed: Weights;
}

const COMPARED: readonly (keyof HaproxyWeightsInputs)[] = [
    "service", "backend", "admin", "serverStateFile", "ssh", "blue", "green", "weights", "ladder", "healthGate", "drainSeconds",
];

/** Every backend's servers (asking for one unknown backend gets no state, only "Can't find backend."). */
async function readStates(inputs: HaproxyWeightsInputs): Promise<{ text: string; states: ServerState[] }> {
    const [text = ""] = await haproxyRuntime(inputs.ssh, inputs.admin, [showServersStateCommand()]);
    return { text, states: parseServersState(text) };
}

/** Gate, shift (rising colour first), read back, persist. Throws before touching HAProxy when a gate stays closed. */
async function applyWeights(olds: HaproxyWeightsOutputs | undefined, news: HaproxyWeightsInputs): Promise<HaproxyWeightsOutputs> {
    const current = colourWeights((await readStates(news)).states, news.backend, HAPROXY_SERVERS);
    await openHealthGates(coloursToGate(current, olds, news), news);

    const commands = weightChangeCommands(news.backend, HAPROXY_SERVERS, news.weights, current);
    const answers = await haproxyRuntime(news.ssh, news.admin, commands);
    commands.forEach((command, index) => expectEmptyAnswer(command, answers[index] ?? ""));

    const after = await readStates(news);
    const observed = colourWeights(after.states, news.backend, HAPROXY_SERVERS);
    if (observed.blue !== news.weights.blue || observed.green !== news.weights.green) {
        throw new Error(
            `HAProxy backend ${news.backend} reports blue ${observed.blue} / green ${observed.green} after setting ` +
                `${news.weights.blue} / ${news.weights.green}`,
        );
    }
    if (news.serverStateFile !== "") await writeFileAtomic(news.ssh, news.serverStateFile, after.text);
    // The losing colour keeps its in-flight requests for the drain time before the up goes on.
    await waitForDrain(current, news.weights, news.drainSeconds);
    return { ...news, observed };
}

export const haproxyWeightsProvider: pulumi.dynamic.ResourceProvider<HaproxyWeightsInputs, HaproxyWeightsOutputs> = shiftProvider<HaproxyWeightsInputs, HaproxyWeightsOutputs>({
    compared: COMPARED,
    applyWeights,
    idOf: (inputs) => `${inputs.admin}#${inputs.backend}`,
    async read(id, props) {
        if (!props) throw new Error(`cannot read HAProxy weights ${id} without their inputs (import is not supported)`);
        const observed = colourWeights((await readStates(props)).states, props.backend, HAPROXY_SERVERS);
        // What HAProxy has now is the state: a refresh shows drift, and the next up puts it back.
        return { id, props: { ...props, weights: observed, observed } };
    },
});

export interface HaproxyWeightsArgs extends ShiftResourceArgs {
    backend: string;
    admin: string;
    serverStateFile?: string;
}

export const HAPROXY_WEIGHTS_TYPE = "pulumi-nodejs:dynamic/release:HaproxyWeights";

/** The weights of one HAProxy backend's blue and green servers, behind the health gate. */
export class HaproxyWeights extends pulumi.dynamic.Resource {
    public declare readonly weights: pulumi.Output<Weights>;
    public declare readonly observed: pulumi.Output<Weights>;

    constructor(name: string, args: HaproxyWeightsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            haproxyWeightsProvider,
            name,
            {
                ...args,
                serverStateFile: args.serverStateFile ?? "",
                ssh: args.ssh === undefined ? undefined : pulumi.secret(args.ssh),
                observed: undefined,
            },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["ssh"] }),
            "release",
            "HaproxyWeights",
        );
    }
}
