// `npm run rollback -- --stack X [--service api]`: all traffic back to blue, applying only the traffic resources.
import { HAPROXY_WEIGHTS_TYPE } from "../components/release/haproxy/weights";
import { NGINX_WEIGHTS_TYPE } from "../components/release/nginx/weights";
import { fail, parseReleaseCliArgs, pulumi, pulumiStreaming, readReleaseConfig, setWeights } from "./release-cli";

const USAGE = "npm run rollback -- --stack <stack> [--service <service>] [--config-file <file>]";
const TRAFFIC_TYPES = [HAPROXY_WEIGHTS_TYPE, NGINX_WEIGHTS_TYPE];

interface StateResource {
    urn: string;
    type: string;
    inputs?: { service?: string };
}

async function main(): Promise<number> {
    const started = process.hrtime.bigint();
    const args = parseReleaseCliArgs(process.argv.slice(2), USAGE);
    const { services } = readReleaseConfig(args);
    if (args.service !== undefined && services[args.service] === undefined) {
        throw new Error(`no service ${args.service} in stack ${args.stack} (has ${Object.keys(services).join(", ")})`);
    }
    const chosen = args.service !== undefined ? [args.service] : Object.keys(services);

    for (const name of chosen) {
        const weights = services[name]?.weights;
        if (weights && (weights.blue !== 100 || weights.green !== 0)) {
            setWeights(args, name, 100, 0);
            console.log(`${name}: blue ${weights.blue} -> 100 %, green ${weights.green} -> 0 %`);
        }
    }

    // Only the resources that carry the weights: no deploy, migration or database step runs.
    const state = JSON.parse(pulumi(args, ["stack", "export"])) as { deployment?: { resources?: StateResource[] } };
    const targets = (state.deployment?.resources ?? [])
        .filter((r) => TRAFFIC_TYPES.includes(r.type) && chosen.includes(r.inputs?.service ?? ""))
        .map((r) => r.urn);
    if (targets.length === 0) throw new Error(`stack ${args.stack} has no traffic resource for ${chosen.join(", ")} yet: nothing to roll back`);

    // The emergency path: no policy pack (the gates guard what a release brings to users; holding
    // a rollback back would keep them on the failing version), so it may touch nothing but traffic.
    console.log(
        `emergency rollback of ${chosen.join(", ")}: runs without the policy pack and applies only the ${targets.length} traffic resource${targets.length === 1 ? "" : "s"} ` +
            "(weights back to blue); nothing is deployed, migrated or backed up. The next full `up` goes through every gate.",
    );
    const code = await pulumiStreaming(args, ["up", "--yes", "--skip-preview", ...targets.flatMap((urn) => ["--target", urn])]);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (code !== 0) {
        console.error(`rollback of ${chosen.join(", ")} FAILED after ${seconds.toFixed(1)} s (pulumi up exited ${code})`);
        return code;
    }
    console.log(`rolled back ${chosen.join(", ")} to blue in ${seconds.toFixed(1)} s`);
    return 0;
}

main().then((code) => process.exit(code), fail);
