// `npm run release:next -- --stack X --service api`: moves green one step up the ladder in the stack config.
import * as path from "node:path";
import { nextWeightStep } from "../components/release/ladder";
import { fail, parseReleaseCliArgs, policyPackFlags, pulumiStreaming, readReleaseConfig, setWeights } from "./release-cli";

const USAGE = "npm run release:next -- --stack <stack> --service <service> [--config-file <file>] [--up]";

async function main(): Promise<number> {
    const args = parseReleaseCliArgs(process.argv.slice(2), USAGE);
    if (args.service === undefined) throw new Error(`usage: ${USAGE}`);
    const { environment, services, release } = readReleaseConfig(args);
    const service = services[args.service];
    if (service === undefined) throw new Error(`no service ${args.service} in stack ${args.stack} (has ${Object.keys(services).join(", ")})`);
    const { blue, green } = service.weights;
    const next = nextWeightStep(release.ladder, green);
    if (next === undefined) {
        console.log(`${args.service}: green already has ${green} % (the top of the ladder ${release.ladder.join(", ")}); nothing to do`);
        return 0;
    }
    setWeights(args, args.service, 100 - next, next);
    console.log(`${args.service}: green ${green} -> ${next} %, blue ${blue} -> ${100 - next} % (ladder ${release.ladder.join(", ")})`);
    if (!args.up) {
        const file = args.configFile ? ` --config-file ${args.configFile}` : "";
        const pack = ` ${policyPackFlags(args.stack, environment).map((flag) => path.relative(process.cwd(), flag) || flag).join(" ")}`;
        console.log(`next: pulumi preview --diff --stack ${args.stack}${file}${pack}   then   pulumi up --stack ${args.stack}${file}${pack}`);
        return 0;
    }
    // With the policy pack, like every other path to an update: the gates decide, not this command.
    const pack = policyPackFlags(args.stack, environment);
    const started = process.hrtime.bigint();
    const code = await pulumiStreaming(args, ["up", "--yes", "--diff", ...pack]);
    const seconds = (Number(process.hrtime.bigint() - started) / 1e9).toFixed(1);
    console.log(
        code === 0
            ? `${args.service}: green at ${next} % after an up of ${seconds} s`
            : `pulumi up failed after ${seconds} s (see above); the config already says green ${next} %: fix the cause and run \`pulumi up\` again, or \`npm run rollback\``,
    );
    return code;
}

main().then((code) => process.exit(code), fail);
