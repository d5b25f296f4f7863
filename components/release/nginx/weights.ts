// A service's blue/green weights in nginx as a dynamic resource: upstream block rendered, `nginx -t`, graceful reload.
import * as pulumi from "@pulumi/pulumi";
import type { Weights } from "../ladder";
import { coloursToGate, openHealthGates, shiftProvider, waitForDrain, type ShiftInputs, type ShiftResourceArgs } from "../shift";
import { outputTail, readFileIfExists, runShell, writeFileAtomic } from "../../remote/transport";
import { parseUpstreamWeights, renderUpstreamBlock, replaceUpstreamBlock } from "./upstream";

export interface NginxWeightsInputs extends ShiftInputs {
    /** Upstream name. */
    upstream: string;
    /** The file of all release upstreams (included by nginx.conf); this resource owns its block. */
    upstreamFile: string;
    testCommand: string;
    reloadCommand: string;
}

export interface NginxWeightsOutputs extends NginxWeightsInputs {
    /** The weights in the upstream file after the reload. */
    observed: Weights;
}

const COMPARED: readonly (keyof NginxWeightsInputs)[] = [
    "service", "upstream", "upstreamFile", "testCommand", "reloadCommand", "ssh", "blue", "green", "weights", "ladder", "healthGate", "drainSeconds",
];

function renderBlock(inputs: NginxWeightsInputs): string {
    return renderUpstreamBlock({
        name: inputs.upstream,
        blue: { address: inputs.blue.address, version: inputs.blue.version },
        green: { address: inputs.green.address, version: inputs.green.version },
        weights: inputs.weights,
    });
}

/** Gate, write the block, validate (restoring the old file if nginx refuses it), reload gracefully, read back. */
async function applyWeights(olds: NginxWeightsOutputs | undefined, news: NginxWeightsInputs): Promise<NginxWeightsOutputs> {
    const before = await readFileIfExists(news.ssh, news.upstreamFile);
    const current = parseUpstreamWeights(before, news.upstream);
    await openHealthGates(coloursToGate(current, olds, news), news);

    await writeFileAtomic(news.ssh, news.upstreamFile, replaceUpstreamBlock(before, news.upstream, renderBlock(news)));
    const test = await runShell(news.ssh, news.testCommand);
    if (test.code !== 0) {
        await writeFileAtomic(news.ssh, news.upstreamFile, before);
        throw new Error(`nginx refused the upstreams of ${news.service} (\`${news.testCommand}\`), file restored: ${outputTail(test)}`);
    }
    const reload = await runShell(news.ssh, news.reloadCommand);
    if (reload.code !== 0) {
        // nginx still runs the configuration it had: the file goes back to match it, so a retry sees
        // the weights actually in force (and opens the health gate of a colour that gains traffic).
        await writeFileAtomic(news.ssh, news.upstreamFile, before);
        const check = await runShell(news.ssh, news.testCommand);
        const restored = check.code === 0 ? "the previous file is back and passes the test" : `the previous file is back but fails the test too: ${outputTail(check)}`;
        throw new Error(`reloading nginx (\`${news.reloadCommand}\`) failed (exit ${reload.code}) for ${news.service}; ${restored}: ${outputTail(reload)}`);
    }

    const observed = parseUpstreamWeights(await readFileIfExists(news.ssh, news.upstreamFile), news.upstream);
    if (observed === undefined || observed.blue !== news.weights.blue || observed.green !== news.weights.green) {
        throw new Error(`${news.upstreamFile} does not hold the weights just written for ${news.upstream}`);
    }
    // After the graceful reload the old workers finish what the losing colour accepted; give them the drain time.
    await waitForDrain(current, news.weights, news.drainSeconds);
    return { ...news, observed };
}

export const nginxWeightsProvider: pulumi.dynamic.ResourceProvider<NginxWeightsInputs, NginxWeightsOutputs> = shiftProvider<NginxWeightsInputs, NginxWeightsOutputs>({
    compared: COMPARED,
    applyWeights,
    idOf: (inputs) => `${inputs.upstreamFile}#${inputs.upstream}`,
    async read(id, props) {
        if (!props) throw new Error(`cannot read nginx upstream ${id} without its inputs (import is not supported)`);
        const observed = parseUpstreamWeights(await readFileIfExists(props.ssh, props.upstreamFile), props.upstream);
        // No block: the upstream is gone.
        return observed === undefined ? undefined : { id, props: { ...props, weights: observed, observed } };
    },
});

export interface NginxWeightsArgs extends ShiftResourceArgs {
    upstream: string;
    upstreamFile: string;
    testCommand: string;
    reloadCommand: string;
}

export const NGINX_WEIGHTS_TYPE = "pulumi-nodejs:dynamic/release:NginxWeights";

/** The weights of one nginx upstream's blue and green servers, behind the health gate. */
export class NginxWeights extends pulumi.dynamic.Resource {
    public declare readonly weights: pulumi.Output<Weights>;
    public declare readonly observed: pulumi.Output<Weights>;

    constructor(name: string, args: NginxWeightsArgs, opts?: pulumi.CustomResourceOptions) {
        super(
            nginxWeightsProvider,
            name,
            { ...args, ssh: args.ssh === undefined ? undefined : pulumi.secret(args.ssh), observed: undefined },
            pulumi.mergeOptions(opts, { additionalSecretOutputs: ["ssh"] }),
            "release",
            "NginxWeights",
        );
    }
}
